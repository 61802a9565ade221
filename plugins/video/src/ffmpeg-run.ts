/**
 * Spawning ffmpeg / ffprobe directly (no fluent-ffmpeg: its percent is wrong with several
 * inputs). Progress comes from `-progress pipe:1 -nostats` (out_time_us); cancel kills the
 * child with SIGKILL, and the child is registered with ctx.trackChild so the agent can kill
 * it even if this code never gets the chance.
 */
import { spawn } from "node:child_process";
import { FarmError } from "../../../core/errors.ts";
import type { TaskContext } from "../../../core/plugin-contract.ts";

export const FFMPEG = process.env.FFMPEG_PATH ?? "ffmpeg";
export const FFPROBE = process.env.FFPROBE_PATH ?? "ffprobe";

export interface RunOptions {
  /** Cancel: kills the process. */
  signal?: AbortSignal;
  trackChild?: TaskContext["trackChild"];
  /** Called with the encoded output time (seconds) each time ffmpeg reports progress. */
  onTime?: (seconds: number) => void;
  /** Called with the child's pid once spawned (benchmarks poll its memory). */
  onSpawn?: (pid: number) => void;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

const cancelled = () => new FarmError("JOB_CANCELLED", "video job cancelled; ffmpeg was killed");

/** Run a binary to completion, collecting stdout (whole) and stderr (last 8 KiB). Rejects on non-zero exit. */
export function runProcess(bin: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(cancelled());
    const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
    opts.trackChild?.(child);
    if (child.pid !== undefined) opts.onSpawn?.(child.pid);
    const onAbort = () => child.kill("SIGKILL");
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    let stdout = "";
    let stderr = "";
    let pending = "";
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      if (!opts.onTime) {
        stdout += chunk;
        return;
      }
      // -progress writes key=value lines; keep a partial line for the next chunk.
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        const m = /^out_time_us=(\d+)/.exec(line);
        if (m?.[1]) opts.onTime(Number(m[1]) / 1e6);
      }
    });
    child.stderr.on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(-8192);
    });
    child.on("error", (err) => {
      opts.signal?.removeEventListener("abort", onAbort);
      reject(new FarmError("INTERNAL_ERROR", `cannot start ${bin}: ${err.message}`));
    });
    child.on("close", (code, sig) => {
      opts.signal?.removeEventListener("abort", onAbort);
      if (opts.signal?.aborted) return reject(cancelled());
      if (code === 0) return resolve({ stdout, stderr });
      const err = new FarmError("JOB_FAILED", `${bin} failed (${sig ?? `exit ${code}`}): ${lastLines(stderr)}`);
      reject(err);
    });
  });
}

/** The last few meaningful stderr lines: what a person needs to see why ffmpeg failed. */
export function lastLines(stderr: string, n = 4): string {
  return stderr.trim().split("\n").slice(-n).join(" | ").slice(0, 1000);
}

let encoderList: Promise<string> | undefined;
/** `ffmpeg -encoders`, cached for the process lifetime. */
export function listEncoders(): Promise<string> {
  encoderList ??= runProcess(FFMPEG, ["-hide_banner", "-encoders"]).then(
    (r) => r.stdout,
    () => "",
  );
  return encoderList;
}
