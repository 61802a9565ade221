/** Sleeping for diag.sleep / diag.gpu: in-process (abortable) or in a child process that ignores SIGTERM. */
import { spawn } from "node:child_process";
import type { TaskContext } from "../../core/plugin-contract.ts";
import { FarmError } from "../../core/errors.ts";

const abortError = (signal: AbortSignal) => (signal.reason instanceof Error ? signal.reason : new FarmError("JOB_CANCELLED", "diag sleep aborted"));

/** Resolve after `ms`, reject with the signal's reason as soon as it aborts. */
export function sleepAbortable(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortError(signal));
    const onAbort = () => {
      clearTimeout(t);
      reject(abortError(signal));
    };
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Sleep in `steps` equal parts, reporting "step i/n" after each. */
export async function sleepInSteps(ctx: TaskContext, seconds: number, steps: number): Promise<void> {
  const stepMs = (seconds * 1000) / steps;
  for (let i = 1; i <= steps; i++) {
    await sleepAbortable(stepMs, ctx.signal);
    ctx.progress((i / steps) * 100, `step ${i}/${steps}`);
  }
}

/**
 * Sleep in a child node process that ignores SIGTERM, so the agent's kill-after-grace
 * path is exercised for real. On abort we forward SIGTERM (which it ignores) and keep
 * waiting: only the agent's SIGKILL ends it early. Spawned detached so it leads its
 * own process group, like real renderers that fork helpers.
 */
export function sleepInChild(ctx: TaskContext, seconds: number, steps: number): Promise<number> {
  const ms = Math.round(seconds * 1000);
  // The child says "ready" once its SIGTERM handler is installed; we report progress
  // "child ready" then, so callers (tests, operators) know a cancel now hits the ignorer.
  const child = spawn(process.execPath, ["-e", `process.on("SIGTERM", () => {}); process.stdout.write("ready\\n"); setTimeout(() => {}, ${ms});`], {
    detached: true,
    stdio: ["ignore", "pipe", "ignore"],
    env: { PATH: process.env.PATH ?? "" },
  });
  ctx.trackChild(child);
  child.stdout?.once("data", () => ctx.progress(0, "child ready"));
  child.stdout?.resume();
  const stepMs = ms / steps;
  let step = 0;
  const ticker = setInterval(
    () => {
      if (step < steps - 1) {
        step++;
        ctx.progress((step / steps) * 100, `step ${step}/${steps}`);
      }
    },
    Math.max(1, stepMs),
  );
  const onAbort = () => child.kill("SIGTERM");
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  return new Promise((resolve, reject) => {
    child.once("error", (err) => {
      clearInterval(ticker);
      reject(new FarmError("INTERNAL_ERROR", `diag.sleep could not start its child process: ${err.message}`));
    });
    child.once("exit", (code, signal) => {
      clearInterval(ticker);
      ctx.signal.removeEventListener("abort", onAbort);
      if (ctx.signal.aborted) return reject(abortError(ctx.signal));
      if (code !== 0) return reject(new FarmError("JOB_FAILED", `diag.sleep child process ended with ${signal ?? `exit code ${code}`}`));
      ctx.progress(100, `step ${steps}/${steps}`);
      resolve(child.pid ?? -1);
    });
  });
}

/**
 * Hold this thread for `ms` without yielding: no timer, no I/O, no Moleculer heartbeat runs
 * meanwhile, as in a long synchronous step of a real plugin. Atomics.wait blocks without
 * spinning, so the drill does not also steal a shared machine's CPU.
 */
export function blockThread(ms: number): void {
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
