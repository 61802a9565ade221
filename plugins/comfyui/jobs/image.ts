/**
 * image.generate on ComfyUI: the model's workflow template filled from the request (style
 * preset applied, reference images uploaded), run on the task's GPU instance, the PNG
 * stored at outputs/images/<job_id>.png. The result is the spec's response: image_url,
 * image_base64 only when return_base64 asks for it, metadata {model, resolution,
 * generation_time, seed}; resolution is read from the stored file, the seed is the one the
 * workflow ran with (random when the request gave none).
 */
import sharp from "sharp";
import { outputUrl } from "../../../core/artifact-store.ts";
import { FarmError } from "../../../core/errors.ts";
import type { Task, TaskContext } from "../../../core/plugin-contract.ts";
import { buildWorkflow } from "../workflows/index.ts";
import type { ComfyInstance } from "../runtime/instance.ts";
import { executeWorkflow, uploadInputs, type ExecuteDeps } from "./execute.ts";
import { parseImageParams } from "./params.ts";
import { applyStyle } from "./style.ts";

export async function generateImage(task: Task, ctx: TaskContext, instance: ComfyInstance, deps: ExecuteDeps & { now: () => number }): Promise<Record<string, unknown>> {
  const t0 = deps.now();
  const p = parseImageParams(task.params);
  const model = task.model!;
  const styled = applyStyle(p.style_preset, p.prompt, p.negative_prompt);
  ctx.progress(1, `preparing ${model} on GPU ${instance.gpu_index}`);
  const refs = await uploadInputs(instance, ctx, task.job_id, p.reference_images, "reference_images");
  const built = buildWorkflow(model, {
    prompt: styled.prompt,
    negative_prompt: styled.negative_prompt,
    width: p.width,
    height: p.height,
    seed: p.seed,
    steps: p.steps,
    guidance_scale: p.guidance_scale,
    sampler: p.sampler,
    // Reference images go to the model's face-reference variant (IP-Adapter FaceID template);
    // a model without one rejects them naming the field.
    reference_images: refs.length > 0 ? refs : undefined,
    mode: refs.length > 0 ? "face_ref" : "t2i",
  });
  if (built.ignored.length > 0) ctx.logger.info("comfyui: request fields the model does not use", { model, ignored: built.ignored });
  const { bytes } = await executeWorkflow(instance, built.workflow, built.outputNode, ctx, deps);
  const meta = await sharp(bytes).metadata().catch(() => undefined);
  if (!meta || meta.format !== "png" || !meta.width || !meta.height) {
    throw new FarmError("MODEL_ERROR", `ComfyUI's output for ${model} is not a PNG image (${meta?.format ?? "unreadable"})`, { reason: "comfyui_bad_output" });
  }
  const key = `outputs/images/${task.job_id}.png`;
  await ctx.artifacts.put(key, bytes, { contentType: "image/png", size: bytes.length });
  const result: Record<string, unknown> = {
    image_url: outputUrl(key),
    metadata: {
      model,
      resolution: `${meta.width}x${meta.height}`,
      generation_time: Math.round((deps.now() - t0) / 10) / 100,
      seed: built.seed,
    },
  };
  if (p.return_base64) result.image_base64 = bytes.toString("base64");
  ctx.progress(100, "done");
  return result;
}
