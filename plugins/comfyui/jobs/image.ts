/**
 * image.generate on ComfyUI: the model's workflow template filled from the request (style
 * preset applied, reference images uploaded), run on the task's GPU instance, the PNG
 * stored at outputs/images/<job_id>.png. The result is the spec's response: image_url,
 * image_base64 only when return_base64 asks for it, metadata {model, resolution,
 * generation_time, seed}; resolution is read from the stored file, the seed is the one the
 * workflow ran with (random when the request gave none).
 */
import { outputUrl } from "../../../core/artifact-store.ts";
import { FarmError } from "../../../core/errors.ts";
import type { Task, TaskContext } from "../../../core/plugin-contract.ts";
import { buildWorkflow } from "../workflows/index.ts";
import type { ComfyInstance } from "../runtime/instance.ts";
import { executeWorkflow, uploadInputs, type ExecuteDeps } from "./execute.ts";
import { parseImageParams } from "./params.ts";
import { applyStyle } from "./style.ts";
import { assertFaceReference } from "./face-ref.ts";
import { FACE_REF } from "../manifest.ts";
import { perfMark } from "../../../core/perf-spans.ts";
import { headOf, tailOf } from "./view-store.ts";
import { outputIntoStore } from "./local-output.ts";

export async function generateImage(
  task: Task,
  ctx: TaskContext,
  instance: ComfyInstance,
  deps: ExecuteDeps & { now: () => number; discoveryIntervalMs: number },
): Promise<Record<string, unknown>> {
  const t0 = deps.now();
  const p = parseImageParams(task.params);
  const model = task.model!;
  // "<id>:face_ref" is the advertised face-reference variant: the base model's face_ref workflow.
  const base = model.endsWith(FACE_REF) ? model.slice(0, -FACE_REF.length) : model;
  if (base !== model && p.reference_images.length === 0) {
    throw new FarmError("VALIDATION_ERROR", `model '${model}' generates from reference faces: give reference_images (or character_id)`, {
      field: "reference_images",
      constraint: "required",
    });
  }
  const styled = applyStyle(p.style_preset, p.prompt, p.negative_prompt);
  ctx.progress(1, `preparing ${model} on GPU ${instance.gpu_index}`);
  const faceMethod = p.reference_images.length > 0 ? await assertFaceReference(instance, base, deps.now(), deps.discoveryIntervalMs) : undefined;
  const refs = await uploadInputs(instance, ctx, task.job_id, p.reference_images, "reference_images");
  const built = buildWorkflow(base, {
    prompt: styled.prompt,
    negative_prompt: styled.negative_prompt,
    width: p.width,
    height: p.height,
    seed: p.seed,
    steps: p.steps,
    guidance_scale: p.guidance_scale,
    sampler: p.sampler,
    fit_size: p.platform !== undefined,
    // Reference images go to the model's face-reference variant (IP-Adapter FaceID template);
    // a model without one rejects them naming the field.
    reference_images: refs.length > 0 ? refs : undefined,
    mode: refs.length > 0 ? "face_ref" : "t2i",
    ...(faceMethod ? { face_method: faceMethod } : {}),
  });
  if (built.ignored.length > 0) ctx.logger.info("comfyui: request fields the model does not use", { model, ignored: built.ignored });
  const { file } = await executeWorkflow(instance, built.workflow, built.outputNode, ctx, deps);
  perfMark(task.job_id, "comfy_done");
  const key = `outputs/images/${task.job_id}.png`;
  // From ComfyUI's output folder when the agent reads it (local-output.ts), else written to the
  // store while /view's body arrives (view-store.ts); published only if it is a PNG.
  const { accepted: meta, bytes } = await outputIntoStore(
    instance,
    file,
    ctx.artifacts,
    key,
    { contentType: "image/png" },
    acceptPng(`ComfyUI's output for ${model}`),
    ctx,
    p.return_base64,
  );
  perfMark(task.job_id, "stored");
  const result: Record<string, unknown> = {
    image_url: outputUrl(key),
    metadata: {
      model,
      resolution: `${meta.width}x${meta.height}`,
      generation_time: Math.round((deps.now() - t0) / 10) / 100,
      seed: built.seed,
    },
  };
  if (bytes) result.image_base64 = bytes.toString("base64");
  return result;
}

/**
 * viewIntoStore's check of a /view body: a PNG (its size read from the header) that ends with
 * the IEND chunk. A body framed by the connection's close (no Content-Length, not chunked)
 * that is cut looks whole to HTTP; its missing end is what shows the cut: comfyui_lost,
 * retryable, nothing published. `what` names the output in the errors.
 */
export function acceptPng(what: string): (body: readonly Buffer[], n: number) => { width: number; height: number } {
  return (body, n) => {
    const png = pngSize(headOf(body, 24));
    if (!png) throw new FarmError("MODEL_ERROR", `${what} is not a PNG image (${n} bytes)`, { reason: "comfyui_bad_output" });
    if (!tailOf(body, PNG_IEND.length).equals(PNG_IEND))
      throw new FarmError("GPU_ERROR", `${what} ends before its PNG end chunk (IEND) after ${n} bytes: the transfer was cut`, { reason: "comfyui_lost" }, true);
    return png;
  };
}

/** A PNG's last 12 bytes: the IEND chunk, length 0, type, CRC (PNG spec 11.2.5; PIL writes nothing after it). */
const PNG_IEND = Buffer.from([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * Width and height from a PNG's IHDR chunk (always the first chunk, PNG spec 11.2.2), or
 * undefined when the bytes are not a PNG. Read directly rather than through an image library:
 * this runs on every job's critical path and needs 24 bytes.
 */
export function pngSize(b: Buffer): { width: number; height: number } | undefined {
  if (b.length < 24 || !b.subarray(0, 8).equals(PNG_SIGNATURE) || b.toString("latin1", 12, 16) !== "IHDR") return undefined;
  const width = b.readUInt32BE(16);
  const height = b.readUInt32BE(20);
  return width > 0 && height > 0 ? { width, height } : undefined;
}
