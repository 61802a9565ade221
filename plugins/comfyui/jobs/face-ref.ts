/**
 * reference_images run the model's face-reference variant (IP-Adapter FaceID template), which
 * needs a node pack and weights that /object_info does not fully show: the loader finds the
 * IP-Adapter, its LoRA and the CLIP vision encoder by name (unlisted_files), so they are
 * checked through /models/<folder>. Checked before the prompt is queued, so a node without
 * them answers MODEL_ERROR naming every missing piece instead of failing mid-run.
 */
import { FarmError } from "../../../core/errors.ts";
import { COMFY_MODELS, missingFor } from "../workflows/index.ts";
import type { ComfyInstance } from "../runtime/instance.ts";

export async function assertFaceReference(inst: ComfyInstance, model: string, now: number, maxAgeMs: number): Promise<void> {
  const req = COMFY_MODELS.find((m) => m.model_id === model && m.modes.includes("face_ref"));
  if (!req) return; // buildWorkflow rejects reference_images for this model, naming the field
  const why = missingFor(req, await inst.objectInfo(now, maxAgeMs));
  for (const f of req.unlisted_files ?? []) {
    if (!(await inst.client.listModels(f.folder)).includes(f.file)) why.push(`${f.file} is not in models/${f.folder}`);
  }
  if (why.length > 0) {
    throw new FarmError("MODEL_ERROR", `reference_images need ${model}'s face-reference workflow, which ${inst.label} cannot run: ${why.join("; ")}`, {
      field: "reference_images",
      constraint: "face_ref",
      model,
      missing: why,
    });
  }
}
