/**
 * The job state machine: the spec's five statuses and the only moves between them.
 * Every status change in the coordinator goes through `assertTransition`, and the
 * stores re-check the source status atomically (compare-and-set), so an illegal move is
 * a CONFLICT, never a silently corrupted job.
 */
import { FarmError } from "../core/errors.ts";
import type { JobStatus } from "../core/job.ts";

/**
 * Allowed moves. `running -> pending` is the re-queue (lost node, expired lease,
 * retryable failure, dispatch refused). Terminal statuses have no way out.
 */
export const TRANSITIONS: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  pending: ["running", "cancelled", "failed"],
  running: ["completed", "failed", "cancelled", "pending"],
  completed: [],
  failed: [],
  cancelled: [],
};

export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Throws CONFLICT (409) naming both statuses when the move is not allowed. */
export function assertTransition(from: JobStatus, to: JobStatus, jobId?: string): void {
  if (canTransition(from, to)) return;
  const who = jobId ? `job '${jobId}'` : "job";
  throw new FarmError("CONFLICT", `${who} cannot go from ${from} to ${to}`, { field: "status", constraint: `${from}->${to}`, from, to });
}

/** The statuses a job may come from to reach `to` (what a store's CAS should expect). */
export function sourcesOf(to: JobStatus): JobStatus[] {
  return (Object.keys(TRANSITIONS) as JobStatus[]).filter((s) => TRANSITIONS[s].includes(to));
}
