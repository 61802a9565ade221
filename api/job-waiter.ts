/**
 * Waits for a job to end, driven by job events: no store read on the hot path. An ending
 * that arrived before the subscription is found in the bus's recent endings; a slow poll
 * covers an event lost to a mesh hiccup.
 */
import type { FarmClient } from "./farm-client.ts";
import { isTerminal, type JobEvent, type JobRecord } from "../core/job.ts";
import { toFarmError } from "../core/errors.ts";
import { perfMark } from "../core/perf-spans.ts";

const POLL_MS = 5000;

export async function waitForJob(farm: FarmClient, job: JobRecord, timeoutMs: number): Promise<JobRecord> {
  if (isTerminal(job.status)) return job;
  let resolveEnd!: (e: JobEvent | null) => void;
  const ended = new Promise<JobEvent | null>((r) => (resolveEnd = r));
  const unsubscribe = farm.events.subscribe(job.id, (e) => {
    if (e.type === "completed" || e.type === "error") {
      perfMark(job.id, "end_event");
      resolveEnd(e);
    }
  });
  const timer = setTimeout(() => resolveEnd(null), timeoutMs);
  try {
    // The job may have ended before we subscribed: this process saw its last event, or
    // (another API process's job, or an old one) the coordinator knows.
    const early = farm.events.recentEnd(job.id);
    if (early) resolveEnd(early);
    // Events are the fast path; a slow poll covers an event lost to a mesh hiccup.
    const poll = setInterval(() => {
      farm.get(job.id).then(
        (cur) => {
          if (isTerminal(cur.status)) resolveEnd(null);
        },
        (err: unknown) => {
          // The job store lost the job (coordinator/reconcile.ts): answer now, not at the timeout.
          if (toFarmError(err).code === "NOT_FOUND") resolveEnd(null);
        },
      );
    }, POLL_MS);
    const e = await ended;
    clearInterval(poll);
    if (e && e.type === "completed") {
      return { ...job, status: "completed", progress: 100, result: e.result, updated_at: e.at, finished_at: e.at };
    }
    try {
      return await farm.get(job.id);
    } catch (err) {
      // Ended with an error and then gone from the store: the error event says why (a store loss).
      if (e && e.type === "error" && toFarmError(err).code === "NOT_FOUND") throw toFarmError(e.error);
      throw err;
    }
  } finally {
    clearTimeout(timer);
    unsubscribe();
  }
}
