/** Tiny media for the video plugin tests, generated with ffmpeg lavfi (no binary fixtures). */
import { execFileSync, spawnSync } from "node:child_process";
import path from "node:path";
import type { ArtifactStore } from "../../core/artifact-store.ts";

const ff = (args: string[]) => execFileSync("ffmpeg", ["-hide_banner", "-v", "error", "-y", ...args], { stdio: ["ignore", "ignore", "pipe"] });

export interface ClipSpec {
  w: number;
  h: number;
  fps: number;
  seconds: number;
  /** Solid colour (clear scene cuts) or the testsrc2 pattern (motion). */
  colour?: string;
  /** Sine frequency for an audio track; none when absent. */
  toneHz?: number;
  pixFmt?: string;
}

/** Writes an mp4 clip and returns its path. */
export function makeClip(dir: string, name: string, s: ClipSpec): string {
  const file = path.join(dir, `${name}.mp4`);
  const video = s.colour ? `color=c=${s.colour}:s=${s.w}x${s.h}:r=${s.fps}:d=${s.seconds}` : `testsrc2=s=${s.w}x${s.h}:r=${s.fps}:d=${s.seconds}`;
  const args = ["-f", "lavfi", "-i", video];
  if (s.toneHz) args.push("-f", "lavfi", "-i", `sine=f=${s.toneHz}:sample_rate=44100:d=${s.seconds}`);
  args.push("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", s.pixFmt ?? "yuv420p");
  if (s.toneHz) args.push("-c:a", "aac", "-shortest");
  ff([...args, file]);
  return file;
}

export function makeTone(dir: string, name: string, seconds: number, hz = 440): string {
  const file = path.join(dir, `${name}.m4a`);
  ff(["-f", "lavfi", "-i", `sine=f=${hz}:sample_rate=48000:d=${seconds}`, "-c:a", "aac", file]);
  return file;
}

export function makeImage(dir: string, name: string, w: number, h: number): string {
  const file = path.join(dir, `${name}.png`);
  ff(["-f", "lavfi", "-i", `testsrc2=s=${w}x${h}`, "-frames:v", "1", file]);
  return file;
}

/** Store a local file under `inputs/<basename>` and return the key. */
export async function upload(store: ArtifactStore, file: string): Promise<string> {
  const key = `inputs/${path.basename(file)}`;
  await store.putFile(key, file);
  return key;
}

export interface Probe {
  width: number;
  height: number;
  fps: number;
  codec: string;
  frames: number;
  duration: number;
  audioDuration: number;
}

export function probe(file: string): Probe {
  const out = execFileSync("ffprobe", ["-v", "error", "-count_packets", "-show_streams", "-of", "json", file], { encoding: "utf8" });
  const streams = (JSON.parse(out) as { streams: Record<string, string | number>[] }).streams;
  const v = streams.find((s) => s.codec_type === "video")!;
  const a = streams.find((s) => s.codec_type === "audio");
  const [n, d] = String(v.avg_frame_rate).split("/").map(Number);
  return {
    width: Number(v.width),
    height: Number(v.height),
    fps: n! / d!,
    codec: String(v.codec_name),
    frames: Number(v.nb_read_packets),
    duration: Number(v.duration),
    audioDuration: a ? Number(a.duration) : 0,
  };
}

/** Times (s) where the picture changes scene: select='gt(scene,T)' + showinfo on the output. */
export function sceneCuts(file: string, threshold = 0.3): number[] {
  const log = ffStderr(["-hide_banner", "-nostats", "-i", file, "-an", "-vf", `select='gt(scene,${threshold})',showinfo`, "-f", "null", "-"]);
  return [...log.matchAll(/pts_time:\s*([\d.]+)/g)].map((m) => Number(m[1]));
}

/** Mean volume (dB) of the audio between two times, via volumedetect (-Infinity for digital silence). */
export function meanVolume(file: string, from: number, to: number): number {
  const log = ffStderr([
    "-hide_banner",
    "-nostats",
    "-ss",
    from.toFixed(3),
    "-t",
    (to - from).toFixed(3),
    "-i",
    file,
    "-vn",
    "-af",
    "volumedetect",
    "-f",
    "null",
    "-",
  ]);
  const m = /mean_volume:\s*(-?[\d.]+|-inf) dB/.exec(log);
  if (!m || m[1] === "-inf") return -Infinity;
  return Number(m[1]);
}

/** Mean absolute difference between consecutive frames' luma (0 = frozen picture), via signalstats YDIF. */
export function meanFrameDiff(file: string): number {
  const log = ffStderr(["-hide_banner", "-nostats", "-i", file, "-vf", "signalstats,metadata=print:key=lavfi.signalstats.YDIF", "-f", "null", "-"]);
  const vals = [...log.matchAll(/YDIF=([\d.]+)/g)].map((m) => Number(m[1])).slice(1);
  return vals.length ? vals.reduce((a, b) => a + b, 0) / vals.length : 0;
}

/** Run ffmpeg and return its stderr (scdet/showinfo/volumedetect log there). Throws on failure. */
export function ffStderr(args: string[]): string {
  const r = spawnSync("ffmpeg", args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr.slice(-2000)}`);
  return r.stderr;
}
