/**
 * Which model a task uses, decided on the agent from the job type's manifest entry:
 * the task's `model`, else the job type's `default_model`, else none. Unknown models
 * are VALIDATION_ERROR naming the field; a model whose weights are missing on this node
 * is MODEL_ERROR naming the files expected and where.
 */
import type { ModelSpec } from "../core/plugin-contract.ts";
import { FarmError } from "../core/errors.ts";
import type { LoadedPlugin, PluginSet } from "./plugin-loader.ts";

export function resolveTaskModel(plugins: PluginSet, lp: LoadedPlugin, type: string, requested: string | undefined): ModelSpec | null {
  const jt = lp.plugin.manifest.job_types.find((j) => j.type === type);
  // Several plugins may serve the type: the valid models are all of theirs.
  const allowed = [...new Set([...(jt?.models ?? []), ...plugins.modelsOf(type)])];
  const id = requested ?? jt?.default_model;
  if (id === undefined) {
    if (allowed.length > 0) {
      throw new FarmError("VALIDATION_ERROR", `job type ${type} needs a model (one of: ${allowed.join(", ")})`, { field: "model", constraint: "required" });
    }
    return null;
  }
  if (!allowed.includes(id)) {
    throw new FarmError(
      "VALIDATION_ERROR",
      allowed.length === 0
        ? `job type ${type} does not use a model, got '${id}'`
        : `unknown model '${id}' for job type ${type} (one of: ${allowed.join(", ")})`,
      { field: "model", constraint: "enum", allowed },
    );
  }
  const spec = plugins.modelSpec(lp, id);
  if (!spec) throw new FarmError("VALIDATION_ERROR", `model '${id}' is not declared by plugin ${lp.name}`, { field: "model", constraint: "enum" });
  const missing = plugins.missingFiles(lp, id);
  if (missing.length > 0 && typeof lp.plugin.discoverModels === "function") {
    // Run-time models: the reasons are the plugin's own words (no server has the weights, ...).
    throw new FarmError("MODEL_ERROR", `model '${id}' cannot run on this node: ${missing.join("; ")}`, {
      field: "model",
      constraint: "available",
      model: id,
      missing,
    });
  }
  if (missing.length > 0) {
    throw new FarmError("MODEL_ERROR", `model '${id}' cannot be loaded: missing file(s) ${missing.join(", ")} (place the weights under ${plugins.modelsDir})`, {
      field: "model",
      constraint: "files",
      model: id,
      missing,
      models_dir: plugins.modelsDir,
    });
  }
  return spec;
}
