/**
 * Validation of plugin manifests (core/plugin-contract.ts PluginManifest): an ajv schema
 * for the shape plus the cross-field rules ajv cannot say (a job type's models must be
 * declared models; model files must be safe relative paths). Returns every problem so a
 * broken plugin is reported in one go at start-up.
 */
import { Ajv } from "ajv";
import path from "node:path";

const RUNTIMES = ["cpu", "ffmpeg", "onnx", "tfjs", "comfyui", "remote-api", "python"];

export const manifestSchema = {
  type: "object",
  required: ["name", "version", "runtime", "job_types", "models"],
  properties: {
    name: { type: "string", pattern: "^[a-z0-9][a-z0-9._-]*$", maxLength: 64 },
    version: { type: "string", minLength: 1 },
    description: { type: "string" },
    runtime: { enum: RUNTIMES },
    job_types: {
      type: "array",
      minItems: 1,
      items: {
        type: "object",
        required: ["type"],
        properties: {
          type: { type: "string", pattern: "^[a-z0-9][a-z0-9_-]*(\\.[a-z0-9_-]+)+$" },
          description: { type: "string" },
          models: { type: "array", items: { type: "string", minLength: 1 } },
          default_model: { type: "string", minLength: 1 },
        },
      },
    },
    models: {
      type: "array",
      items: {
        type: "object",
        required: ["id", "vram_mb", "files"],
        properties: {
          // ":" and "/" as in the API's model field: remote ids such as "google/gemini-2.0-flash-exp:free".
          id: { type: "string", minLength: 1, pattern: "^[A-Za-z0-9._:/-]+$" },
          vram_mb: { type: "number", minimum: 0 },
          files: { type: "array", items: { type: "string", minLength: 1 } },
          cpu_fallback: { type: "boolean" },
          description: { type: "string" },
          license: { type: "string" },
        },
      },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: false });
const validateShape = ajv.compile(manifestSchema);

/** Every problem with a manifest, each prefixed with `label` (e.g. "plugins/diag"). Empty = valid. */
export function manifestProblems(manifest: unknown, label: string): string[] {
  if (!validateShape(manifest)) {
    return (validateShape.errors ?? []).map((e) => {
      const at = (e.instancePath || "").slice(1).replace(/\//g, ".") || "manifest";
      if (e.keyword === "required") return `${label}: ${at === "manifest" ? "" : at + "."}${String(e.params.missingProperty)} is required`;
      if (e.keyword === "enum") return `${label}: ${at} must be one of ${JSON.stringify(e.params.allowedValues)}`;
      return `${label}: ${at} ${e.message ?? e.keyword}`;
    });
  }
  const m = manifest as {
    job_types: { type: string; models?: string[]; default_model?: string }[];
    models: { id: string; files: string[] }[];
  };
  const problems: string[] = [];
  const modelIds = new Set<string>();
  m.models.forEach((mod, i) => {
    if (modelIds.has(mod.id)) problems.push(`${label}: models.${i}.id '${mod.id}' is declared twice`);
    modelIds.add(mod.id);
    mod.files.forEach((f, j) => {
      if (path.isAbsolute(f) || f.split(/[\\/]/).includes("..")) {
        problems.push(`${label}: models.${i}.files.${j} '${f}' must be a path relative to the models directory (no leading '/', no '..')`);
      }
    });
  });
  const types = new Set<string>();
  m.job_types.forEach((jt, i) => {
    if (types.has(jt.type)) problems.push(`${label}: job_types.${i}.type '${jt.type}' is declared twice`);
    types.add(jt.type);
    (jt.models ?? []).forEach((id, j) => {
      if (!modelIds.has(id)) problems.push(`${label}: job_types.${i}.models.${j} '${id}' (job type ${jt.type}) is not a model declared in models`);
    });
    if (jt.default_model !== undefined) {
      if (!modelIds.has(jt.default_model)) {
        problems.push(`${label}: job_types.${i}.default_model '${jt.default_model}' (job type ${jt.type}) is not a model declared in models`);
      } else if (!(jt.models ?? []).includes(jt.default_model)) {
        problems.push(`${label}: job_types.${i}.default_model '${jt.default_model}' (job type ${jt.type}) is not listed in its models`);
      }
    }
  });
  return problems;
}
