/**
 * Runs one task through its plugin, with everything the plugin contract promises:
 * a private workDir (created on first access, always removed), throttled progress (at most one update per
 * `progressIntervalMs`, default 100 ms ≈ 10/s, none during the first interval, and once any
 * was sent the latest one is delivered before the outcome), an AbortSignal, and
 * child-process tracking.
 *
 * Cancel: the signal is aborted and tracked children get SIGTERM; after the grace period
 * any child still alive is SIGKILLed (its whole process group too, when it was spawned
 * detached) and the runner stops waiting for the plugin. A cancelled run always ends as
 * a failure carrying the cancel reason, even if the plugin returns a result meanwhile.
 *
 * Errors thrown by the plugin become a SerializedError + retryable (see classifyError).
 */
import fs from "node:fs";
import path from "node:path";
import type { Plugin, Task, TaskContext } from "../core/plugin-contract.ts";
import type { ArtifactStore } from "../core/artifact-store.ts";
import type { GpuInfo } from "../core/telemetry.ts";
import type { Logger } from "../core/logger.ts";
import { FarmError, toFarmError, type SerializedError } from "../core/errors.ts";
import { attemptScope } from "../core/artifacts/attempt-scope.ts";
import { perfMark } from "../core/perf-spans.ts";

export type TaskOutcome =
  | {
      status: "completed";
      result: Record<string, unknown>;
      /** The last progress message not yet sent: the completion report carries it (see finish). */
      message?: string;
    }
  | { status: "failed"; error: SerializedError; retryable: boolean; cancelled: boolean };

export interface TaskRunOptions {
  task: Task;
  plugin: Plugin;
  /** `plugins.<name>` config. */
  pluginConfig: Record<string, unknown>;
  /** The loaded model handle (ModelHandle.value) when the task uses a model. */
  model?: unknown;
  gpus: GpuInfo[];
  modelsDir: string;
  artifacts: ArtifactStore;
  /**
   * The attempt's lease token: outputs are written under attempt-specific keys and the
   * result names them (core/artifacts/attempt-scope.ts), so a fenced late attempt cannot
   * overwrite the files of the attempt that completed the job. Absent: plain keys.
   */
  leaseToken?: number;
  logger: Logger;
  /** agent.work_dir: the task's workDir is `<workRoot>/<job_id>-<attempt>`. */
  workRoot: string;
  /** agent.cancel_grace_ms. */
  cancelGraceMs: number;
  onProgress(pct: number, message?: string): void;
  progressIntervalMs?: number;
}

type Child = { pid?: number; kill(signal?: NodeJS.Signals | number): boolean };

/** A started run. */
export interface TaskRun {
  readonly workDir: string;
  /** Settles with the outcome; never rejects. */
  readonly done: Promise<TaskOutcome>;
  /** Abort the run with this reason (JOB_CANCELLED, a hand-back on drain…). Idempotent. */
  cancel(reason: FarmError): void;
  readonly cancelled: boolean;
}

// Messages of runtime failures that say "the GPU (or its memory) failed": worth a retry.
const GPU_FAILURE = /out of memory|\bOOM\b|CUDA|cuDNN|CUBLAS|NVENC|device[- ]lost|GPU/i;

/** Map anything thrown by a plugin to the wire error and whether a retry may help. */
export function classifyError(err: unknown): { error: SerializedError; retryable: boolean } {
  if (err instanceof FarmError) return { error: err.toJSON(), retryable: err.retryable };
  const fe = toFarmError(err);
  if (fe.code === "INTERNAL_ERROR" && GPU_FAILURE.test(fe.message)) {
    return { error: { code: "GPU_ERROR", message: fe.message }, retryable: true };
  }
  return { error: fe.toJSON(), retryable: fe.retryable };
}

/** Job ids come from the coordinator, but never let one escape the work root. */
const safeSegment = (s: string) =>
  s
    .replace(/[^A-Za-z0-9._-]/g, "_")
    .replace(/^\.+/, "_")
    .slice(0, 200) || "_";

export function startTaskRun(opts: TaskRunOptions): TaskRun {
  const { task } = opts;
  const workDir = path.join(opts.workRoot, `${safeSegment(task.job_id)}-${task.attempt}`);
  const logger = opts.logger;
  // Made on first use: most plugins never look at the signal, and an AbortController per
  // task shows in the profile at 2,000 tasks/s. One made after a cancel starts aborted.
  let ac: AbortController | null = null;
  const controller = () => {
    if (!ac) {
      ac = new AbortController();
      if (cancelReason) ac.abort(cancelReason);
    }
    return ac;
  };
  const children = new Set<Child>();
  const interval = opts.progressIntervalMs ?? 100;
  let finished = false;
  let cancelReason: FarmError | null = null;
  let graceTimer: NodeJS.Timeout | null = null;
  let resolveDone!: (o: TaskOutcome) => void;
  const done = new Promise<TaskOutcome>((r) => (resolveDone = r));

  // --- progress throttle -------------------------------------------------------
  // The clock starts at the task's start, not at -Infinity: a task that ends within its
  // first interval reports no progress at all (its outcome is the news). At 1,000 short
  // jobs/s, the two updates such a task would otherwise send (first stage, last stage)
  // were two mesh calls, two store writes and two events per job.
  let lastEmit = Date.now();
  let emitted = false;
  let pending: { pct: number; message?: string } | null = null;
  let progressTimer: NodeJS.Timeout | null = null;
  const emitProgress = () => {
    progressTimer = null;
    if (!pending) return;
    const p = pending;
    pending = null;
    lastEmit = Date.now();
    emitted = true;
    try {
      opts.onProgress(p.pct, p.message);
    } catch (err) {
      logger.warn("progress callback failed", { error: err instanceof Error ? err.message : String(err) });
    }
  };
  const progress = (pct: number, message?: string) => {
    if (finished || typeof pct !== "number" || !Number.isFinite(pct)) return;
    pending = { pct: Math.min(100, Math.max(0, pct)), message: typeof message === "string" ? message : undefined };
    const since = Date.now() - lastEmit;
    if (since >= interval) {
      if (progressTimer) clearTimeout(progressTimer);
      emitProgress();
    } else if (!progressTimer) {
      progressTimer = setTimeout(emitProgress, interval - since);
    }
  };

  // --- children ----------------------------------------------------------------
  const alive = (c: Child) => {
    const cp = c as Child & { exitCode?: number | null; signalCode?: string | null };
    return !(cp.exitCode !== undefined && cp.exitCode !== null) && !(cp.signalCode !== undefined && cp.signalCode !== null);
  };
  const killChildren = (signal: NodeJS.Signals) => {
    for (const c of children) {
      if (!alive(c)) continue;
      // A detached child leads its own process group: kill the group so grandchildren
      // (ffmpeg under a shell, python workers) die too. ESRCH = not a group leader.
      if (c.pid !== undefined) {
        try {
          process.kill(-c.pid, signal);
        } catch {
          /* not a group leader, or already gone */
        }
      }
      try {
        c.kill(signal);
      } catch {
        /* already gone */
      }
    }
  };
  const trackChild = (c: Child) => {
    children.add(c);
    const ee = c as Child & { once?: (ev: string, fn: () => void) => void };
    if (typeof ee.once === "function") ee.once("exit", () => children.delete(c));
    // Registered after cancel: it must not outlive the run.
    if (cancelReason) killChildren("SIGTERM");
  };

  // --- finish ------------------------------------------------------------------
  const finish = (ended: TaskOutcome) => {
    if (finished) return;
    let outcome = ended;
    if (progressTimer) clearTimeout(progressTimer);
    // The latest update is not lost once any was sent. A failure's goes out first, as its own
    // update (where the task was when it failed). A completion carries the message in its
    // own report instead (its progress is 100 anyway): a separate progress call went first and
    // the completion waited behind it, one mesh round trip and one store write on every job's
    // critical path (bench comfyui, "final progress flush").
    if (emitted && pending) {
      if (outcome.status === "completed") {
        if (pending.message !== undefined) outcome = { ...outcome, message: pending.message };
        pending = null;
      } else emitProgress();
    }
    finished = true;
    if (graceTimer) clearTimeout(graceTimer);
    // A finished task must leave no process behind.
    killChildren("SIGKILL");
    if (workDirMade) removeWorkDir(workDir, logger);
    perfMark(task.job_id, "outcome");
    resolveDone(outcome);
  };

  const cancel = (reason: FarmError) => {
    if (finished || cancelReason) return;
    cancelReason = reason;
    logger.info("cancelling task", { code: reason.code, reason: reason.message, grace_ms: opts.cancelGraceMs });
    ac?.abort(reason);
    killChildren("SIGTERM");
    graceTimer = setTimeout(() => {
      if (finished) return;
      if (children.size > 0) logger.warn("grace period over: killing task processes", { pids: [...children].map((c) => c.pid) });
      killChildren("SIGKILL");
      finish({ status: "failed", ...classifyError(reason), cancelled: true });
    }, opts.cancelGraceMs);
  };

  // The workDir is created on first use: most cheap tasks (diag.echo, remote API calls)
  // never touch it, and two filesystem calls per task matter at 1,000 tasks/s.
  let workDirMade = false;
  const outputs = attemptScope(opts.artifacts, opts.leaseToken);
  const ctx: TaskContext = {
    progress,
    get signal() {
      return controller().signal;
    },
    artifacts: outputs.store,
    logger,
    get workDir() {
      if (!workDirMade) {
        workDirMade = true;
        // A crashed earlier run of the same attempt may have left files behind.
        fs.rmSync(workDir, { recursive: true, force: true });
        fs.mkdirSync(workDir, { recursive: true });
      }
      return workDir;
    },
    model: opts.model,
    gpus: opts.gpus,
    modelsDir: opts.modelsDir,
    config: opts.pluginConfig,
    trackChild,
  };

  void (async () => {
    let outcome: TaskOutcome;
    try {
      perfMark(task.job_id, "run_start");
      const result = await opts.plugin.run(task, ctx);
      perfMark(task.job_id, "plugin_done");
      outcome = cancelReason
        ? { status: "failed", ...classifyError(cancelReason), cancelled: true }
        : result && typeof result === "object" && !Array.isArray(result)
          ? { status: "completed", result: outputs.result(result) }
          : {
              status: "failed",
              error: { code: "INTERNAL_ERROR", message: `plugin returned ${Array.isArray(result) ? "an array" : typeof result} instead of a result object` },
              retryable: false,
              cancelled: false,
            };
    } catch (err) {
      outcome = cancelReason
        ? { status: "failed", ...classifyError(cancelReason), cancelled: true }
        : { status: "failed", ...classifyError(err), cancelled: false };
      if (!cancelReason) logger.warn("task failed", { code: outcome.error.code, error: outcome.error.message });
    }
    if (finished) {
      // The grace period ran out earlier; the plugin finally returned. Clean up what it left.
      if (workDirMade) removeWorkDir(workDir, logger);
      return;
    }
    finish(outcome);
  })();

  return {
    workDir,
    done,
    cancel,
    get cancelled() {
      return cancelReason !== null;
    },
  };
}

function removeWorkDir(dir: string, logger: Logger): void {
  try {
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
  } catch (err) {
    logger.warn("could not remove work dir", { dir, error: err instanceof Error ? err.message : String(err) });
  }
}
