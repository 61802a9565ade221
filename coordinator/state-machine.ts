/**
 * The job state machine: the spec's five statuses, the only moves between them, and the
 * one path by which a job's status changes. The coordinator and its flows (parent jobs,
 * character jobs) change a status only through `moveJob`, which checks the move here and
 * then makes it one compare-and-set in the store expecting the source status; a change
 * that keeps the status (progress, cancel_requested, the webhook field) goes through `updateJob`; a job
 * created straight into a later status (placed at submit, a parent that runs nowhere)
 * goes through `createdAs`. A unit test pins that no other file in coordinator/ writes a
 * status through the store's `transition`. An illegal move is a CONFLICT (a rejected
 * promise from `moveJob`), never a corrupted job.
 */
import { FarmError } from "../core/errors.ts";
import type { JobRecord, JobStatus } from "../core/job.ts";
import type { JobPatch, JobStore, TransitionOptions } from "./job-store.ts";

/**
 * Allowed moves. `running -> pending` is the re-queue (lost node, expired lease,
 * retryable failure, dispatch refused). Terminal statuses (core/job.ts TERMINAL_STATUSES)
 * have no way out.
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
  if (!canTransition(from, to)) throw conflict(from, to, jobId);
}

function conflict(from: JobStatus, to: JobStatus, jobId: string | undefined): FarmError {
  const who = jobId ? `job '${jobId}'` : "job";
  return new FarmError("CONFLICT", `${who} cannot go from ${from} to ${to}`, { field: "status", constraint: `${from}->${to}`, from, to });
}

/** The statuses a job may come from to reach `to` (what a store's CAS should expect). */
export function sourcesOf(to: JobStatus): JobStatus[] {
  return (Object.keys(TRANSITIONS) as JobStatus[]).filter((s) => TRANSITIONS[s].includes(to));
}

/** What a move writes besides the status itself. */
export type StatusPatch = Omit<JobPatch, "status">;

/**
 * Move job `id` from `from` to `to`: the move is checked first (CONFLICT before the store
 * is touched), then written as one compare-and-set that expects `from` (and, with
 * `opts.leaseToken`, the current lease). Null when the job was no longer `from` (another
 * caller won the race) or the token was stale.
 */
export function moveJob(
  store: Pick<JobStore, "transition">,
  id: string,
  from: JobStatus,
  to: JobStatus,
  patch: StatusPatch,
  opts?: TransitionOptions,
): Promise<JobRecord | null> {
  if (!canTransition(from, to)) return Promise.reject(conflict(from, to, id));
  return store.transition(id, [from], { ...patch, status: to }, opts);
}

/** A change that keeps the status (progress, cancel_requested): written only while the job is still `status`. */
export function updateJob(
  store: Pick<JobStore, "transition">,
  id: string,
  status: JobStatus,
  patch: StatusPatch,
  opts?: TransitionOptions,
): Promise<JobRecord | null> {
  return store.transition(id, [status], patch, opts);
}

/**
 * Mark a running parent job (batch, chain, character flow) cancel-requested, once: a parent
 * already marked is returned as it is. null: it left `running` meanwhile.
 */
export async function markCancelRequested(store: Pick<JobStore, "transition">, parent: JobRecord, now: number, reason: string): Promise<JobRecord | null> {
  if (parent.cancel_requested) return parent;
  return updateJob(store, parent.id, "running", { cancel_requested: true, updated_at: now }, { history: { at: now, event: "cancel_requested", reason } });
}

/**
 * End a running parent job (batch, chain, character flow): the move to its final status with
 * `finished_at`/`updated_at` and a history entry whose reason is the patch's message.
 * null: it left `running` meanwhile.
 */
export function finishParent(
  store: Pick<JobStore, "transition">,
  id: string,
  to: "completed" | "failed" | "cancelled",
  now: number,
  patch: StatusPatch & { message: string },
): Promise<JobRecord | null> {
  return moveJob(store, id, "running", to, { ...patch, finished_at: now, updated_at: now }, { history: { at: now, event: to, reason: patch.message } });
}

/** A new record (status pending, never stored) created straight into `to`, checked as the move from pending it stands for. */
export function createdAs(rec: JobRecord, to: JobStatus, patch: StatusPatch): JobRecord {
  assertTransition(rec.status, to, rec.id);
  return { ...rec, ...patch, status: to };
}
