/**
 * Runs analyzePcm in a worker thread (one per process, started on first use, analyses
 * queued one at a time) so the agent's event loop keeps answering heartbeats and other
 * jobs while the DSP runs. Cancel terminates the worker; the next analysis starts a new one.
 */
import { Worker } from "node:worker_threads";
import { FarmError, isErrorCode, type SerializedError } from "../../core/errors.ts";
import type { AnalyzeOptions, AudioAnalysis } from "./types.ts";

interface Pending {
  /** The worker running it: a terminated worker's exit must not fail its successor's work. */
  worker: Worker;
  resolve: (r: AudioAnalysis) => void;
  reject: (e: unknown) => void;
  onProgress?: (pct: number, message: string) => void;
}

let worker: Worker | null = null;
let nextId = 1;
const pending = new Map<number, Pending>();
let queue: Promise<unknown> = Promise.resolve();

function getWorker(): Worker {
  if (worker) return worker;
  const w = new Worker(new URL("./analyze-worker-boot.mjs", import.meta.url));
  w.on("message", (m: { id: number; progress?: number; message?: string; result?: AudioAnalysis; error?: SerializedError }) => {
    const p = pending.get(m.id);
    if (!p) return;
    if (m.result || m.error) {
      pending.delete(m.id);
      if (pending.size === 0) w.unref();
    }
    if (m.result) {
      p.resolve(m.result);
    } else if (m.error) {
      const code = isErrorCode(m.error.code) ? m.error.code : "INTERNAL_ERROR";
      p.reject(new FarmError(code, m.error.message, m.error.details));
    } else if (m.progress !== undefined) p.onProgress?.(m.progress, m.message ?? "");
  });
  const fail = (err: unknown) => {
    if (worker === w) worker = null;
    for (const [id, p] of pending) {
      if (p.worker !== w) continue;
      pending.delete(id);
      p.reject(err instanceof Error ? err : new FarmError("INTERNAL_ERROR", `audio analysis worker stopped: ${String(err)}`));
    }
  };
  w.on("error", fail);
  w.on("exit", (code) => fail(new FarmError("INTERNAL_ERROR", `audio analysis worker exited (code ${code})`)));
  return (worker = w);
}

export interface OffThreadOptions extends Pick<AnalyzeOptions, "analysisType" | "signal" | "onProgress"> {
  /** The node's beat network file (beat-net/model.ts), loaded and run in the worker. */
  beatModel?: string;
}

export function analyzePcmOffThread(samples: Float32Array, sr: number, opts: OffThreadOptions = {}): Promise<AudioAnalysis> {
  const run = () =>
    new Promise<AudioAnalysis>((resolve, reject) => {
      const signal = opts.signal;
      if (signal?.aborted) return reject(new FarmError("JOB_CANCELLED", "audio analysis cancelled"));
      const w = getWorker();
      const id = nextId++;
      const onAbort = () => {
        pending.delete(id);
        if (worker === w) worker = null;
        void w.terminate();
        reject(new FarmError("JOB_CANCELLED", "audio analysis cancelled"));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      pending.set(id, {
        worker: w,
        resolve: (r) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(r);
        },
        reject: (e) => {
          signal?.removeEventListener("abort", onAbort);
          reject(e);
        },
        onProgress: opts.onProgress,
      });
      // Referenced only while an analysis runs: an idle worker must not keep the process alive.
      w.ref();
      // The samples are copied, not transferred: the caller keeps its buffer.
      w.postMessage({ id, samples, sr, analysisType: opts.analysisType, beatModel: opts.beatModel });
    });
  const p = queue.then(run, run);
  queue = p.catch(() => {});
  return p;
}
