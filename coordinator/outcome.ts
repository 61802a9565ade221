/**
 * What happens to a running job when its attempt ends (completed, cancelled, failed or
 * handed back), expressed as the store patch for one compare-and-set. Pure functions.
 */
import type { ErrorCode, SerializedError } from "../core/errors.ts";
import type { JobHistoryEntry, JobRecord, JobStatus } from "../core/job.ts";
import type { StoredDecision, UnsettableField } from "./job-store.ts";
import type { LeaseEntry } from "./lease-table.ts";
import type { QueuedJob } from "./pending-index.ts";
import type { Placement } from "./scheduler.ts";
import type { StatusPatch } from "./state-machine.ts";

export type Outcome =
  /** `message`: the attempt's last progress message, when its report carried one. */
  | { kind: "completed"; result: Record<string, unknown>; message?: string }
  | { kind: "cancelled"; reason: string }
  | { kind: "failed"; error: SerializedError; reason: string }
  /**
   * Back to pending. `avoidNode` adds the node to failed_on (and sets how long the job waits
   * for another node, `avoidWaitMs` of outcomeWrite); `restoreAttempt` gives the attempt back (dispatch refused).
   */
  | {
      kind: "requeue";
      reason: string;
      avoidNode: boolean;
      restoreAttempt?: boolean;
      /** Back in the queue after this long (retry backoff); 0/absent = at once. */ delayMs?: number;
    };

/** Error codes that are the job's or the user's fault, not the node's: they do not count toward the blocklist. */
export const NOT_NODE_FAULT: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  "VALIDATION_ERROR",
  "NOT_FOUND",
  "PAYLOAD_TOO_LARGE",
  "UNSUPPORTED_MEDIA_TYPE",
  "JOB_CANCELLED",
  "EXTERNAL_API_ERROR",
  "RATE_LIMITED",
  "UNAUTHORIZED",
  "FORBIDDEN",
  "CONFLICT",
  "STALE_LEASE",
]);

/** The status an outcome moves a running job to, what it writes besides, and its history entry. */
export function outcomeWrite(
  l: LeaseEntry,
  o: Outcome,
  now: number,
  /**
   * How long a job re-queued away from a node waits for another node before that node may
   * take it again (counted from when it rejoins the queue, after any retry delay).
   * Undefined: it waits for as long as another capable node is busy.
   */
  avoidWaitMs?: number,
): { to: JobStatus; patch: StatusPatch; unset: UnsettableField[]; history: JobHistoryEntry } {
  let to: JobStatus;
  let patch: StatusPatch;
  let unset: UnsettableField[] = ["lease"];
  let reason: string | undefined;
  switch (o.kind) {
    case "completed":
      to = "completed";
      patch = { progress: 100, result: o.result, finished_at: now, updated_at: now };
      if (o.message !== undefined) patch.message = o.message;
      break;
    case "cancelled":
      to = "cancelled";
      patch = { finished_at: now, updated_at: now, error: { code: "JOB_CANCELLED", message: o.reason } };
      reason = o.reason;
      break;
    case "failed":
      to = "failed";
      patch = { finished_at: now, updated_at: now, error: o.error };
      reason = o.reason;
      break;
    case "requeue":
      to = "pending";
      patch = { progress: 0, updated_at: now };
      if (o.avoidNode) {
        patch.failed_on = l.failed_on.includes(l.node_id) ? l.failed_on : [...l.failed_on, l.node_id];
        // Set or removed on every avoiding re-queue: a limit left from an earlier failure must not shorten this one's wait.
        patch.avoid_until = avoidWaitMs === undefined ? undefined : now + (o.delayMs ?? 0) + avoidWaitMs;
      }
      if (o.restoreAttempt) patch.attempts = Math.max(0, l.attempts - 1);
      unset = ["lease", "node_id", "started_at", "message", "cancel_requested"];
      reason = o.reason;
      break;
  }
  const history: JobHistoryEntry = { at: now, event: o.kind === "requeue" ? "requeued" : o.kind, node_id: l.node_id };
  if (reason !== undefined) history.reason = reason;
  return { to, patch, unset, history };
}

export function blockReason(count: number, type: string, last: string): string {
  return `failed ${count} '${type}' jobs (last: ${last})`;
}

export function queued(j: Pick<JobRecord, "id" | "type" | "priority" | "created_at" | "requirements" | "failed_on" | "avoid_until" | "owner">): QueuedJob {
  const q: QueuedJob = { id: j.id, type: j.type, priority: j.priority, created_at: j.created_at, requirements: j.requirements };
  if (j.failed_on && j.failed_on.length > 0) q.failed_on = j.failed_on;
  if (j.avoid_until !== undefined) q.avoid_until = j.avoid_until;
  if (j.owner !== undefined) q.owner = j.owner;
  return q;
}

export function storedDecision(jobId: string, d: Placement, at: number): StoredDecision {
  // The scheduler already capped the reasons (maxReasons) and noted how many it left out.
  const s: StoredDecision = { job_id: jobId, at, verdict: d.verdict, gpu_index: d.gpu_index, summary: d.summary, reasons: d.reasons };
  if (d.node_id !== undefined) s.node_id = d.node_id;
  return s;
}
