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
import { MOTIONS, oversample, zoompanFilter, type Motion } from "./motion.ts";
import { chooseEncoder, MAX_FPS, MAX_HEIGHT, MAX_WIDTH, parseOutputSettings } from "./output-settings.ts";
import { probeMedia } from "./probe.ts";
import { int, num, oneOf, str } from "./validate.ts";

export const ANIMATE_MODEL = "kenburns";
/** Longest side of the output when the request gives no size. */
export const DEFAULT_LONG_SIDE = 1024;
export const MAX_FRAMES = 2000;

export interface AnimateParams {
  /** Artifact key of the still. */
  image: string;
  prompt?: string;
  /** Default 121. */
  num_frames: number;
  /** Default 24. */
  fps: number;
  /** 0..1, default 0.5: zoom 1.05 … 1.15. */
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

export function parseAnimateParams(p: Record<string, unknown>): AnimateParams {
  const prompt = p.prompt === undefined || p.prompt === null ? undefined : String(p.prompt);
  return {
    image: str(p.image, "image"),
    prompt,
    num_frames: int(p.num_frames, "num_frames", 2, MAX_FRAMES, 121),
    fps: num(p.fps, "fps", 1, MAX_FPS, 24),
    motion_strength: num(p.motion_strength, "motion_strength", 0, 1, 0.5),
    motion: oneOf(p.motion, "motion", MOTIONS, "ken_burns"),
    width: p.width === undefined || p.width === null ? undefined : int(p.width, "width", 16, MAX_WIDTH),
    height: p.height === undefined || p.height === null ? undefined : int(p.height, "height", 16, MAX_HEIGHT),
    quality: p.quality === undefined ? undefined : str(p.quality, "quality"),
    codec: p.codec === undefined ? undefined : str(p.codec, "codec"),
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
