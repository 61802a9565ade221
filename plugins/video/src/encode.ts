/** One ffmpeg encode with progress, cancel, and NVENC → software fallback. */
import { FarmError } from "../../../core/errors.ts";
import type { TaskContext } from "../../../core/plugin-contract.ts";
import { FFMPEG, runProcess } from "./ffmpeg-run.ts";
import { encoderArgs, type OutputPlan } from "./output-settings.ts";

export interface EncodeJob {
  /** Everything before the encoder options: inputs, -filter_complex_script, -map … */
  inputArgs: string[];
  outFile: string;
  plan: OutputPlan;
  encoder: string;
  /** Timeline length in seconds (progress denominator). */
  totalSeconds: number;
  /** Progress range this encode maps onto. */
  pctFrom: number;
  pctTo: number;
  onSpawn?: (pid: number) => void;
}

/** The full ffmpeg argument list for an encode (exported so the bench can time the same command). */
export function encodeArgs(job: EncodeJob, encoder: string): string[] {
  return ["-hide_banner", "-v", "error", "-y", "-progress", "pipe:1", "-nostats", ...job.inputArgs, ...encoderArgs(job.plan, encoder), job.outFile];
}

/** Runs the encode; returns the encoder actually used. */
export async function encode(job: EncodeJob, ctx: TaskContext): Promise<string> {
  const T = job.totalSeconds;
  let last = -1;
  const onTime = (s: number) => {
    const t = Math.min(T, Math.max(0, s));
    const pct = job.pctFrom + ((job.pctTo - job.pctFrom) * t) / (T || 1);
    if (Math.floor(pct) === last) return;
    last = Math.floor(pct);
    ctx.progress(Math.round(pct * 10) / 10, `Encoding ${t.toFixed(1)}/${T.toFixed(1)} s`);
  };
  const opts = { signal: ctx.signal, trackChild: ctx.trackChild, onTime, onSpawn: job.onSpawn };
  try {
    await runProcess(FFMPEG, encodeArgs(job, job.encoder), opts);
    return job.encoder;
  } catch (err) {
    // NVENC can be listed yet unusable (driver too old, sessions exhausted): fall back once.
    if (!job.encoder.includes("nvenc") || (err instanceof FarmError && err.code === "JOB_CANCELLED")) throw err;
    const software = job.plan.codec === "h265" ? "libx265" : "libx264";
    ctx.logger.warn(`NVENC encode failed, retrying with ${software}`, { error: err instanceof Error ? err.message : String(err) });
    await runProcess(FFMPEG, encodeArgs(job, software), opts);
    return software;
  }
}
