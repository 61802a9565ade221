/**
 * Waits for a job to end, driven by job events (no polling on the hot path). The
 * subscription is taken before the first read so an event between read and subscribe
 * cannot be missed.
 */
import type { FarmClient } from "./farm-client.ts";
import { isTerminal, type JobEvent, type JobRecord } from "../core/job.ts";

export async function waitForJob(farm: FarmClient, job: JobRecord, timeoutMs: number): Promise<JobRecord> {
  if (isTerminal(job.status)) return job;
  let resolveEnd!: (e: JobEvent | null) => void;
  const ended = new Promise<JobEvent | null>((r) => (resolveEnd = r));
  const unsubscribe = farm.events.subscribe(job.id, (e) => {
    if (e.type === "completed" || e.type === "error") resolveEnd(e);
  });
  const timer = setTimeout(() => resolveEnd(null), timeoutMs);
  try {
    // The job may have finished before we subscribed.
    const current = await farm.get(job.id);
    if (isTerminal(current.status)) return current;
    const e = await ended;
    if (e && e.type === "completed") {
      return { ...current, status: "completed", progress: 100, result: e.result, updated_at: e.at, finished_at: e.at };
    }
    return await farm.get(job.id);
  } finally {
    clearTimeout(timer);
    unsubscribe();
  }
}
