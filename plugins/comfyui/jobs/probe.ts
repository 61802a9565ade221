/** ffprobe of a finished video: the numbers video.generate reports come from the real file. */
import { execFile } from "node:child_process";
import { FarmError } from "../../../core/errors.ts";

export interface VideoFacts {
  width: number;
  height: number;
  frame_count: number;
  fps: number;
  duration: number;
}

function run(bin: string, args: string[], signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { maxBuffer: 1 << 20, signal }, (err, stdout, stderr) =>
      err ? reject(new Error(`${bin}: ${stderr.trim() || err.message}`)) : resolve(stdout),
    );
  });
}

const ratio = (r: string | undefined) => {
  const [n, d] = (r ?? "0/1").split("/").map(Number);
  return d ? n! / d : 0;
};

export async function probeVideo(file: string, signal?: AbortSignal): Promise<VideoFacts> {
  let out: string;
  try {
    // -count_frames decodes the stream: the frame count is what is there, not a header's claim.
    out = await run(
      "ffprobe",
      [
        "-v",
        "error",
        "-select_streams",
        "v:0",
        "-count_frames",
        "-show_entries",
        "stream=width,height,nb_read_frames,avg_frame_rate,r_frame_rate:format=duration",
        "-of",
        "json",
        file,
      ],
      signal,
    );
  } catch (err) {
    throw new FarmError("MODEL_ERROR", `ComfyUI's video output could not be read: ${err instanceof Error ? err.message : String(err)}`, {
      reason: "comfyui_bad_output",
    });
  }
  const j = JSON.parse(out) as {
    streams?: { width?: number; height?: number; nb_read_frames?: string; avg_frame_rate?: string; r_frame_rate?: string }[];
    format?: { duration?: string };
  };
  const s = j.streams?.[0];
  if (!s?.width || !s.height) throw new FarmError("MODEL_ERROR", "ComfyUI's video output has no video stream", { reason: "comfyui_bad_output" });
  const fps = ratio(s.avg_frame_rate) || ratio(s.r_frame_rate);
  const frames = Number(s.nb_read_frames ?? 0);
  return {
    width: s.width,
    height: s.height,
    frame_count: frames,
    fps: Math.round(fps * 1000) / 1000,
    // Frames / fps is the playable length; the container's duration can include codec padding.
    duration: fps > 0 ? Math.round((frames / fps) * 100) / 100 : Number(j.format?.duration ?? 0),
  };
}

/** Re-encode to H.264 MP4 (the spec's video_url is .mp4) keeping every frame and the rate. */
export async function toMp4(input: string, output: string, fps: number, signal?: AbortSignal): Promise<void> {
  try {
    await run(
      "ffmpeg",
      [
        "-v",
        "error",
        "-y",
        "-i",
        input,
        "-map",
        "0:v:0",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-r",
        String(fps),
        "-vsync",
        "passthrough",
        "-movflags",
        "+faststart",
        output,
      ],
      signal,
    );
  } catch (err) {
    throw new FarmError("MODEL_ERROR", `ComfyUI's video output could not be converted to MP4: ${err instanceof Error ? err.message : String(err)}`, {
      reason: "comfyui_bad_output",
    });
  }
}
