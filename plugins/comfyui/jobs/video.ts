/**
 * video.generate on ComfyUI (LTX-Video): text-to-video, or image-to-video when the request
 * carries a start image (uploaded through /upload/image). The output is fetched through
 * /view, stored as H.264 MP4 at outputs/videos/<job_id>.mp4 (re-encoded when ComfyUI saved
 * another container), and the metadata is ffprobe's reading of that file: the spec's
 * {model, duration, frame_count, resolution, fps}.
 */
import path from "node:path";
import { outputUrl } from "../../../core/artifact-store.ts";
import type { Task, TaskContext } from "../../../core/plugin-contract.ts";
import { buildWorkflow } from "../workflows/index.ts";
import type { ComfyInstance } from "../runtime/instance.ts";
import { executeWorkflow, uploadInputs, type ExecuteDeps } from "./execute.ts";
import { saveOutput } from "./output.ts";
import { parseVideoParams } from "./params.ts";
import { probeVideo, toMp4 } from "./probe.ts";

export async function generateVideo(task: Task, ctx: TaskContext, instance: ComfyInstance, deps: ExecuteDeps): Promise<Record<string, unknown>> {
  const p = parseVideoParams(task.params);
  const model = task.model!;
  ctx.progress(1, `preparing ${model} on GPU ${instance.gpu_index}`);
  const start = p.image ? (await uploadInputs(instance, ctx, task.job_id, [p.image], "image"))[0] : undefined;
  const built = buildWorkflow(model, {
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
  const { file } = await executeWorkflow(instance, built.workflow, built.outputNode, ctx, deps);
  // Only video reports the steps after sampling: fetch, re-encode and probe take real time there.
  ctx.progress(96, "fetching output");
  const ext = path.extname(file.filename).toLowerCase() || ".bin";
  const raw = path.join(ctx.workDir, `comfy-output${ext}`);
  await saveOutput(instance, file, raw, ctx.signal);
  let mp4 = raw;
  if (ext !== ".mp4") {
    ctx.progress(97, "converting to MP4");
    mp4 = path.join(ctx.workDir, "video.mp4");
    await toMp4(raw, mp4, p.fps, ctx.signal);
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
