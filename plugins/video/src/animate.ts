/**
 * video.animate on CPU ("kenburns" model): a still becomes a clip with eased camera motion.
 * The prompt cannot steer a camera move; it is accepted (the spec sends it) and reported
 * back unused. Generative image-to-video (LTX) belongs to a GPU plugin.
 */
import fsp from "node:fs/promises";
import path from "node:path";
import type { Task, TaskContext } from "../../../core/plugin-contract.ts";
import { validation } from "../../../core/errors.ts";
import { fetchInput } from "./fetch-input.ts";
import { fpsRational, fitChain } from "./filter-graph.ts";
import { encode } from "./encode.ts";
import { finishVideo, type VideoResult } from "./finish.ts";
import { oversample, zoompanFilter, type Motion } from "./motion.ts";
import { chooseEncoder, parseOutputSettings } from "./output-settings.ts";
import { probeMedia } from "./probe.ts";
import { parseParams } from "../../../core/job-types/parse.ts";
import { ANIMATE_MAX_FRAMES, KENBURNS_MODEL, VideoAnimateParams } from "../../../core/job-types/video-animate.ts";

export const ANIMATE_MODEL = KENBURNS_MODEL;
/** Longest side of the output when the request gives no size. */
export const DEFAULT_LONG_SIDE = 1024;
export const MAX_FRAMES = ANIMATE_MAX_FRAMES;

export interface AnimateParams {
  /** Artifact key of the still. */
  image: string;
  prompt?: string;
  /** Default 121. */
  num_frames: number;
  /** Default 24. */
  fps: number;
  /** 0..1, default 0.8 (the schema's): zoom 1.05 … 1.15. */
  motion_strength: number;
  /** Default "ken_burns". */
  motion: Motion;
  width?: number;
  height?: number;
  /** Quality tier (draft/standard/high/maximum), default standard. */
  quality?: string;
  /** h264 (default), h265, vp9, prores. */
  codec?: string;
}

/** The job type's one schema (core/job-types/video-animate.ts, shared with ComfyUI's image-to-video); null is absent. */
export function parseAnimateParams(p: Record<string, unknown>): AnimateParams {
  const v = parseParams(VideoAnimateParams, p, { nullIsAbsent: true });
  return {
    image: v.image,
    prompt: v.prompt,
    num_frames: v.num_frames!,
    fps: v.fps!,
    motion_strength: v.motion_strength!,
    motion: v.motion!,
    width: v.width,
    height: v.height,
    quality: v.quality,
    codec: v.codec,
  };
}

const even = (x: number) => Math.max(16, Math.round(x / 2) * 2);

/** Output size: as asked; one side given → the other from the image's aspect; none → image size, long side ≤ 1024. */
export function animateSize(p: AnimateParams, iw: number, ih: number): { width: number; height: number } {
  if (p.width && p.height) return { width: p.width, height: p.height };
  if (p.width) return { width: p.width, height: even((p.width * ih) / iw) };
  if (p.height) return { width: even((p.height * iw) / ih), height: p.height };
  const scale = Math.min(1, DEFAULT_LONG_SIDE / Math.max(iw, ih));
  return { width: even(iw * scale), height: even(ih * scale) };
}

export async function runAnimate(task: Task, ctx: TaskContext): Promise<VideoResult> {
  const p = parseAnimateParams(task.params);
  const dir = await fsp.mkdtemp(path.join(ctx.workDir, "animate-"));
  try {
    ctx.progress(1, "Fetching image");
    const file = await fetchInput(ctx, p.image, "image", dir, "image");
    const info = await probeMedia(file, "image", { signal: ctx.signal, trackChild: ctx.trackChild });
    if (info.kind === "audio" || info.width <= 0 || info.height <= 0) throw validation("image", "image", "image: the file is not a picture");
    const size = animateSize(p, info.width, info.height);
    const plan = parseOutputSettings(
      { resolution: `${size.width}x${size.height}`, fps: p.fps, quality: p.quality, codec: p.codec },
      { ...size, fps: p.fps },
      "params",
    );
    const k = oversample(plan.width, plan.height);
    // The first video frame of the input (a GIF or video still works too), cover-cropped to
    // the output aspect at k× size, then one zoompan pass produces every frame.
    const graph = [
      fitChain("[0:v]trim=end_frame=1,", "[big]", plan.width * k, plan.height * k, "crop", "a"),
      `[big]${zoompanFilter(p.motion, p.motion_strength, p.num_frames, plan.width, plan.height, plan.fps)},setsar=1,format=yuv420p[vout]`,
    ].join(";");
    const encoder = await chooseEncoder(plan, ctx.gpus);
    const outFile = path.join(dir, `out.${plan.ext}`);
    const seconds = p.num_frames / plan.fps;
    const inputArgs = ["-i", file, "-filter_complex", graph, "-map", "[vout]", "-r", fpsRational(plan.fps), "-frames:v", String(p.num_frames)];
    const used = await encode({ inputArgs, outFile, plan, encoder, totalSeconds: seconds, pctFrom: 5, pctTo: 95 }, ctx);
    return await finishVideo(task.job_id, outFile, used, ctx, {
      model: ANIMATE_MODEL,
      motion: p.motion,
      motion_strength: p.motion_strength,
      prompt: p.prompt ?? null,
      prompt_applied: false,
    });
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}
