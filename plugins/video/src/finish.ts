/**
 * After the encode: poster frame, measurement of the real output with ffprobe, upload of
 * both to `outputs/videos/<job_id>.<ext|jpg>`, and the spec-style result.
 */
import fsp from "node:fs/promises";
import path from "node:path";
import { outputUrl } from "../../../core/artifact-store.ts";
import type { TaskContext } from "../../../core/plugin-contract.ts";
import { FFMPEG, runProcess } from "./ffmpeg-run.ts";
import { probeMedia } from "./probe.ts";
import { contentTypeFor, type OutputPlan } from "./output-settings.ts";

export interface VideoMetadata {
  /** Seconds, measured by ffprobe on the output's video stream. */
  duration: number;
  /** Video packets (= frames) counted by ffprobe. */
  frame_count: number;
  /** "WIDTHxHEIGHT" of the output. */
  resolution: string;
  fps: number;
  /** Codec of the output's video stream as ffprobe names it (h264, hevc, vp9, prores). */
  codec: string;
  /** Bytes. */
  size: number;
  /** ffmpeg encoder used (libx264, h264_nvenc, …). */
  encoder: string;
}

export interface VideoResult extends Record<string, unknown> {
  job_id: string;
  status: "completed";
  video_url: string;
  thumbnail_url: string;
  metadata: VideoMetadata & Record<string, unknown>;
}

export async function finishVideo(jobId: string, file: string, encoder: string, ctx: TaskContext, extra: Record<string, unknown> = {}): Promise<VideoResult> {
  const run = { signal: ctx.signal, trackChild: ctx.trackChild };
  ctx.progress(96, "Measuring output");
  const info = await probeMedia(file, "output", { ...run, countFrames: true });
  const frames = info.frameCount ?? 0;
  const duration = info.videoDuration || (info.fps ? frames / info.fps : info.duration);
  // Poster: a frame a third of the way in (past any fade-in from black).
  const poster = path.join(path.dirname(file), "poster.jpg");
  await runProcess(FFMPEG, ["-hide_banner", "-v", "error", "-y", "-ss", (duration / 3).toFixed(3), "-i", file, "-frames:v", "1", "-q:v", "3", poster], run);
  const ext = path.extname(file).slice(1);
  const videoKey = `outputs/videos/${jobId}.${ext}`;
  const posterKey = `outputs/videos/${jobId}.jpg`;
  ctx.progress(98, "Uploading");
  const stored = await ctx.artifacts.putFile(videoKey, file, contentTypeFor(ext as OutputPlan["ext"]));
  await ctx.artifacts.putFile(posterKey, poster, "image/jpeg");
  const size = stored.size || (await fsp.stat(file)).size;
  ctx.progress(100, "Done");
  return {
    job_id: jobId,
    status: "completed",
    video_url: outputUrl(videoKey),
    thumbnail_url: outputUrl(posterKey),
    metadata: {
      ...extra,
      duration: Number(duration.toFixed(3)),
      frame_count: frames,
      resolution: `${info.width}x${info.height}`,
      fps: Number(info.fps.toFixed(3)),
      codec: info.videoCodec,
      size,
      encoder,
    },
  };
}
