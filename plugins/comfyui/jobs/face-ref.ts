/**
 * reference_images run the model's face-reference variant: IP-Adapter FaceID, InstantID or
 * PuLID, the first (in COMFY_MODELS order) whose node pack and weights this instance has. The
 * IP-Adapter loader finds its IP-Adapter, LoRA and CLIP vision encoder by name (unlisted_files),
 * so those are checked through /models/<folder>. Checked before the prompt is queued, so a node
 * without any method answers MODEL_ERROR naming every missing piece instead of failing mid-run.
 */
import { FarmError } from "../../../core/errors.ts";
import { COMFY_MODELS, missingFor, type FaceMethod } from "../workflows/index.ts";
import type { ComfyInstance } from "../runtime/instance.ts";

/** The face-reference method to run on `inst`; undefined when the model has none (buildWorkflow then names the field). */
export async function assertFaceReference(inst: ComfyInstance, model: string, now: number, maxAgeMs: number): Promise<FaceMethod | undefined> {
  const methods = COMFY_MODELS.filter((m) => m.model_id === model && m.modes.includes("face_ref"));
  if (methods.length === 0) return undefined;
  const info = await inst.objectInfo(now, maxAgeMs);
  const why: string[] = [];
  for (const req of methods) {
    const lacking = missingFor(req, info);
    for (const f of req.unlisted_files ?? []) {
      if (!(await inst.client.listModels(f.folder)).includes(f.file)) lacking.push(`${f.file} is not in models/${f.folder}`);
    }
    if (lacking.length === 0) return req.face_method;
    why.push(...(methods.length > 1 ? lacking.map((w) => `${req.face_method}: ${w}`) : lacking));
  }
  throw new FarmError("MODEL_ERROR", `reference_images need ${model}'s face-reference workflow, which ${inst.label} cannot run: ${why.join("; ")}`, {
    field: "reference_images",
    constraint: "face_ref",
    model,
    missing: why,
  });
}
