/**
 * Waiting for Suno to finish rendering: poll GET /api/get?ids= every poll_interval_ms
 * until every clip is complete or error, or max_wait_s runs out.
 *
 * We poll here instead of asking the bridge to wait (wait_audio=true on its side) because
 * a bridge-side wait is one HTTP call of a minute or more: longer than timeout_ms, with
 * no progress to report and nothing to cancel but the socket.
 *
 * Credits are already spent while we wait, so failures from here on are raised with
 * retryable=false (a retry would pay for new songs) and carry the clip ids, which the
 * caller can still fetch from the bridge later.
 */
import type { TaskContext } from "../../core/plugin-contract.ts";
import type { FarmError } from "../../core/errors.ts";
import type { SunoConfig } from "./config.ts";
import type { SunoBridgeClient } from "./bridge-client.ts";
import { isTerminal, type SunoClip } from "./clips.ts";
import { bridgeError, cancelled, sleepAbortable } from "./errors.ts";

/** Consecutive failed polls tolerated before giving up (a bridge restart, a blip). */
export const MAX_POLL_FAILURES = 3;

export interface WaitOptions {
  /** Progress range this phase reports into, e.g. [5, 85]. */
  from: number;
  to: number;
}

export async function waitForClips(
  client: SunoBridgeClient,
  initial: readonly SunoClip[],
  cfg: SunoConfig,
  ctx: TaskContext,
  opts: WaitOptions,
): Promise<SunoClip[]> {
  const ids = initial.map((c) => c.id);
  const byId = new Map(initial.map((c) => [c.id, c] as const));
  const deadline = Date.now() + cfg.max_wait_s * 1000;
  let failures = 0;
  const current = () => ids.map((id) => byId.get(id) as SunoClip);
  const report = () => {
    const done = current().filter((c) => c.status === "complete").length;
    ctx.progress(opts.from + ((opts.to - opts.from) * done) / ids.length, `Waiting for Suno: ${done}/${ids.length} clips complete`);
  };
  report();
  while (!current().every(isTerminal)) {
    const left = deadline - Date.now();
    if (left <= 0) {
      const pending = current().filter((c) => !isTerminal(c));
      throw bridgeError(
        `Suno did not finish ${pending.length} of ${ids.length} clips within max_wait_s=${cfg.max_wait_s} (still ${pending.map((c) => `${c.id}: ${c.status}`).join(", ")})`,
        "max_wait_s",
        { clip_ids: ids, max_wait_s: cfg.max_wait_s },
        false,
      );
    }
    await sleepAbortable(Math.min(cfg.poll_interval_ms, left), ctx.signal);
    try {
      for (const c of await client.clips(ids)) if (byId.has(c.id)) byId.set(c.id, c);
      failures = 0;
    } catch (err) {
      if (ctx.signal.aborted) throw cancelled(ctx.signal);
      const fe = err as FarmError;
      failures++;
      ctx.logger.warn("suno poll failed", { attempt: failures, error: fe.message });
      if (failures >= MAX_POLL_FAILURES) {
        throw bridgeError(
          `Suno bridge failed ${failures} polls in a row while clips were rendering: ${fe.message}`,
          "poll",
          { clip_ids: ids, cause: fe.details?.constraint, ...(fe.details?.status !== undefined ? { status: fe.details.status } : {}) },
          false,
        );
      }
      continue;
    }
    report();
  }
  return current();
}
