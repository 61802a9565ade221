/**
 * The built-in diag plugin: operators' smoke tests and the farm's own test fixtures.
 *
 * - diag.echo   params: anything          -> {echo: params}
 * - diag.sleep  params: seconds (0..3600, default 1), steps (1..10000, default
 *               ceil(seconds) clamped to 1..100), child (bool, default false),
 *               block_ms (0..60000, default 0: first hold the agent's main thread that
 *               long, synchronously: the false-death drill of issue 15 item 3)
 *                                         -> {slept_s, steps, child_pid?}
 * - diag.fail   params: message, code (catalog code, default JOB_FAILED), retryable
 *               (default false), fail_times (N: only attempts 1..N fail; absent: always)
 *                                         -> throws, or {attempt, failed_attempts: N}
 * - diag.gpu    model: diag-small | diag-medium | diag-large (default diag-small);
 *               params: seconds (0..3600, default 0) to hold the model
 *                                         -> {model, gpu_index, vram_mb, load_id}
 * The schemas, bounds and defaults are job-types.ts's. Attempts count from 1 (task.attempt of the first run).
 */
import type { Static, TSchema } from "typebox";
import { definePlugin, type ModelSpec } from "../../core/plugin-contract.ts";
import { FarmError, isErrorCode } from "../../core/errors.ts";
import { manifest } from "./manifest.ts";
import { FailParams, GpuParams, SleepParams } from "./job-types.ts";
import { parseParams } from "../../core/job-types/parse.ts";
import { blockThread, sleepInChild, sleepInSteps } from "./sleep.ts";

/** What diag's load() returns: a record of the (pretend) load. */
export interface DiagModelHandle {
  id: string;
  vram_mb: number;
  gpu_index: number | null;
  /** Increases with every load in this process: equal ids = the same resident load. */
  load_id: number;
  loaded_at: number;
}

/** The job type's schema (job-types.ts); null is absent; errors name `params.<field>`, as the submit check does. */
const parse = <S extends TSchema>(schema: S, p: Readonly<Record<string, unknown>>): Static<S> =>
  parseParams(schema, p, { nullIsAbsent: true, fieldPrefix: "params." });

let loadSeq = 0;
const stats = { loads: 0, unloads: 0 };
/** Loads/unloads performed by this process (operators' drills, tests). */
export const diagModelStats = (): { loads: number; unloads: number } => ({ ...stats });

export default definePlugin({
  manifest,

  async load(model: ModelSpec, ctx): Promise<DiagModelHandle> {
    stats.loads++;
    const handle = { id: model.id, vram_mb: model.vram_mb, gpu_index: ctx.gpu_index ?? null, load_id: ++loadSeq, loaded_at: Date.now() };
    ctx.logger.debug("diag model loaded", { model: model.id, gpu_index: handle.gpu_index, load_id: handle.load_id });
    return handle;
  },

  async unload(): Promise<void> {
    stats.unloads++;
  },

  async run(task, ctx) {
    const p = task.params;
    switch (task.type) {
      case "diag.echo":
        return { echo: p };

      case "diag.sleep": {
        const v = parse(SleepParams, p);
        const seconds = v.seconds!;
        const steps = v.steps ?? Math.min(100, Math.max(1, Math.ceil(seconds)));
        blockThread(v.block_ms!);
        if (v.child) {
          const pid = await sleepInChild(ctx, seconds, steps);
          return { slept_s: seconds, steps, child_pid: pid };
        }
        await sleepInSteps(ctx, seconds, steps);
        return { slept_s: seconds, steps };
      }

      case "diag.fail": {
        const v = parse(FailParams, p);
        const code = v.code!;
        if (!isErrorCode(code))
          throw new FarmError("VALIDATION_ERROR", `params.code must be an error code from the catalog, got '${code}'`, {
            field: "params.code",
            constraint: "catalog",
          });
        const failTimes = v.fail_times ?? undefined;
        if (failTimes !== undefined && task.attempt > failTimes) return { attempt: task.attempt, failed_attempts: failTimes };
        throw new FarmError(code, v.message!, { attempt: task.attempt }, v.retryable!);
      }

      case "diag.gpu": {
        const seconds = parse(GpuParams, p).seconds!;
        const h = ctx.model as DiagModelHandle | undefined;
        if (!h || typeof h.load_id !== "number")
          throw new FarmError("MODEL_ERROR", `diag.gpu ran without its model loaded (model ${task.model ?? "none"})`, { field: "model" });
        if (seconds > 0) await sleepInSteps(ctx, seconds, Math.min(100, Math.max(1, Math.ceil(seconds))));
        return { model: h.id, gpu_index: task.gpu_index ?? h.gpu_index, vram_mb: h.vram_mb, load_id: h.load_id };
      }

      default:
        throw new FarmError("CAPABILITY_UNAVAILABLE", `diag does not serve job type ${task.type}`, { field: "type", constraint: "enum" });
    }
  },
});
