/**
 * Video on ComfyUI (LTX-Video):
 *  - video.generate: text-to-video, or image-to-video when the request carries a start image;
 *  - video.animate (/video/animate with an image-to-video model, e.g. model
 *    "ltx-video-0.9.7-distilled"): the still is the start image of the i2v workflow. Without
 *    width/height the clip keeps the still's aspect ratio at the model's usual size (longest
 *    side 768, LTX's documented 768x512), snapped to its 32-px grid; one given side keeps
 *    the aspect for the other. Fields that only steer Ken Burns camera motion (motion,
 *    motion_strength, quality, codec) have no counterpart in the model: logged as ignored.
 * Start images go up through /upload/image. The output is streamed from /view, stored as
 * H.264 MP4 at outputs/videos/<job_id>.mp4 (re-encoded when ComfyUI saved another
 * container), and the metadata is ffprobe's reading of that file: the spec's
 * {model, duration, frame_count, resolution, fps} (+ the seed the workflow ran with).
 */
import path from "node:path";
import sharp from "sharp";
import { outputUrl } from "../../../core/artifact-store.ts";
import { FarmError } from "../../../core/errors.ts";
import type { Task, TaskContext } from "../../../core/plugin-contract.ts";
import { buildWorkflow, findModel, type GenerateRequest } from "../workflows/index.ts";
import type { ComfyInstance } from "../runtime/instance.ts";
import { executeWorkflow, readArtifact, uploadInputs, type ExecuteDeps } from "./execute.ts";
import { saveOutput } from "./output.ts";
import { parseAnimateParams, parseVideoParams } from "./params.ts";
import { probeVideo, toMp4 } from "./probe.ts";

/** LTX-Video's documented working size is 768x512: an animated still gets that longest side. */
const ANIMATE_LONG_SIDE = 768;

export async function generateVideo(task: Task, ctx: TaskContext, instance: ComfyInstance, deps: ExecuteDeps): Promise<Record<string, unknown>> {
  const p = parseVideoParams(task.params);
  ctx.progress(1, `preparing ${task.model} on GPU ${instance.gpu_index}`);
  const start = p.image ? (await uploadInputs(instance, ctx, task.job_id, [p.image], "image"))[0] : undefined;
  return renderVideo(task, ctx, instance, deps, {
    prompt: p.prompt,
    negative_prompt: p.negative_prompt,
    width: p.width,
    height: p.height,
    seed: p.seed,
    steps: p.steps,
    guidance_scale: p.guidance_scale,
    num_frames: p.num_frames,
    fps: p.fps,
    start_image: start,
    mode: start ? "i2v" : "t2v",
  });
}

export async function animateVideo(task: Task, ctx: TaskContext, instance: ComfyInstance, deps: ExecuteDeps): Promise<Record<string, unknown>> {
  const model = task.model!;
  const p = parseAnimateParams(task.params, model);
  ctx.progress(1, `preparing ${model} on GPU ${instance.gpu_index}`);
  const size =
    p.width !== undefined && p.height !== undefined
      ? { width: p.width, height: p.height, fit: false }
      : await sizeFromStill(ctx, p.image, model, p.width, p.height);
  if (p.ignored.length > 0) ctx.logger.info("comfyui: /video/animate fields an image-to-video model does not use", { model, ignored: p.ignored });
  const [start] = await uploadInputs(instance, ctx, task.job_id, [p.image], "image");
  return renderVideo(task, ctx, instance, deps, {
    prompt: p.prompt,
    width: size.width,
    height: size.height,
    fit_size: size.fit,
    seed: p.seed,
    num_frames: p.num_frames,
    fps: p.fps,
    start_image: start,
    mode: "i2v",
  });
}

/** The clip size for a still: its aspect ratio (EXIF orientation applied, as ComfyUI's LoadImage does). */
async function sizeFromStill(
  ctx: TaskContext,
  key: string,
  model: string,
  width?: number,
  height?: number,
): Promise<{ width: number; height: number; fit: boolean }> {
  let meta: Awaited<ReturnType<ReturnType<typeof sharp>["metadata"]>>;
  try {
    meta = await sharp(await readArtifact(ctx, key)).metadata();
  } catch (err) {
    throw new FarmError("VALIDATION_ERROR", `image: '${key}' could not be read as an image: ${err instanceof Error ? err.message : String(err)}`, {
      field: "image",
      constraint: "image",
    });
  }
  if (!meta.width || !meta.height) throw new FarmError("VALIDATION_ERROR", `image: '${key}' has no pixel size`, { field: "image", constraint: "image" });
  const rotated = (meta.orientation ?? 1) >= 5;
  const iw = rotated ? meta.height : meta.width;
  const ih = rotated ? meta.width : meta.height;
  if (width === undefined && height === undefined) {
    // The whole size is ours to choose: scale to the usual long side, buildWorkflow snaps it to the grid.
    const s = ANIMATE_LONG_SIDE / Math.max(iw, ih);
    return { width: Math.round(iw * s), height: Math.round(ih * s), fit: true };
  }
  // One side typed: kept as typed; the other follows the still's aspect on the model's grid.
  const grid = findModel(model, "i2v").params.size_multiple;
  const snap = (v: number) => Math.max(grid, Math.round(v / grid) * grid);
  return width !== undefined ? { width, height: snap((width * ih) / iw), fit: false } : { width: snap((height! * iw) / ih), height: height!, fit: false };
}

async function renderVideo(task: Task, ctx: TaskContext, instance: ComfyInstance, deps: ExecuteDeps, req: GenerateRequest): Promise<Record<string, unknown>> {
  const model = task.model!;
  const built = buildWorkflow(model, req);
  const { file } = await executeWorkflow(instance, built.workflow, built.outputNode, ctx, deps);
  // Only video reports the steps after sampling: fetch, re-encode and probe take real time there.
  ctx.progress(96, "fetching output");
  const ext = path.extname(file.filename).toLowerCase() || ".bin";
  const raw = path.join(ctx.workDir, `comfy-output${ext}`);
  await saveOutput(instance, file, raw, ctx.signal, ctx.logger);
  let mp4 = raw;
  if (ext !== ".mp4") {
    ctx.progress(97, "converting to MP4");
    mp4 = path.join(ctx.workDir, "video.mp4");
    await toMp4(raw, mp4, built.used.fps ?? req.fps ?? 24, ctx.signal);
  }
  const facts = await probeVideo(mp4, ctx.signal);
  const key = `outputs/videos/${task.job_id}.mp4`;
  await ctx.artifacts.putFile(key, mp4, "video/mp4");
  return {
    video_url: outputUrl(key),
    metadata: {
      model,
      duration: facts.duration,
      frame_count: facts.frame_count,
      resolution: `${facts.width}x${facts.height}`,
      fps: facts.fps,
      seed: built.seed,
    },
  };
}
