/**
 * What a job needs, derived at submit time: the model is `params.model` when given,
 * otherwise the job type's default model as advertised by the nodes: agents list the
 * definition's `default_model` first (node-agent/plugin-loader.ts capabilities()), so the
 * first model a node lists is the default wherever that node can run it; the API route
 * fills the same default from the same definition (api/job-type-body.ts). Its VRAM need
 * comes from the nodes' `model_vram`.
 */
import { validation } from "../core/errors.ts";
import type { JobRequirements } from "../core/job.ts";
import type { NodeReport } from "../core/telemetry.ts";

export type RequirementsFor = (type: string, params: Record<string, unknown>, nodes: readonly NodeReport[]) => JobRequirements;

export const defaultRequirementsFor: RequirementsFor = (type, params, nodes) => {
  const asked = params.model;
  if (asked !== undefined && (typeof asked !== "string" || asked.length === 0)) {
    throw validation("params.model", "type", "params.model must be a non-empty string (a model id)");
  }
  let model = asked;
  if (model === undefined) {
    for (const n of nodes) {
      const first = n.models?.[type]?.[0];
      if (first !== undefined) {
        model = first;
        break;
      }
    }
  }
  if (model === undefined) return {};
  // Nodes agree on a model's need when they share the manifest; take the largest to be safe.
  let vram = 0;
  for (const n of nodes) vram = Math.max(vram, n.model_vram?.[model] ?? 0);
  return vram > 0 ? { model, vram_mb: vram } : { model };
};
