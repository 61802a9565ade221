/**
 * The JobStore contract: everything the coordinator persists. Two implementations exist,
 * with the same behaviour (one shared contract test suite runs against both):
 *
 * - `stores/embedded-store.ts`: in-process maps + an append-only journal file (embedded
 *   mode, no server);
 * - `stores/redis-store.ts`: Redis, every state move one atomic Lua script (distributed).
 *
 * Rules every implementation keeps:
 * - **Atomic compare-and-set.** `transition` checks the job's current status (and, when
 *   given, its lease token) and applies the patch in one indivisible step. Two callers
 *   racing on the same job: exactly one wins, the other gets `null`.
 * - **Fencing tokens are the store's.** `grantLease` makes the store issue
 *   `token = previous token + 1` for that job (previous tokens are remembered even after
 *   a re-queue removed the lease), so a late report from an older lease can always be told
 *   apart from the current one.
 * - **Records are snapshots.** What a method returns never changes afterwards, and
 *   nothing a caller does to it, or to what it handed in, reaches the store. Callers treat
 *   both as read-only once handed over: the embedded store freezes what it takes in and
 *   hands out frozen records (a mutation throws) instead of copying; Redis serialises
 *   what it takes and decodes a fresh object each time.
 * - **Idempotency.** `create` with an idempotency key that already exists returns the
 *   existing job with `created: false` and stores nothing.
 * - Methods reject only on infrastructure failure (disk, Redis); "not found" and "lost
 *   the race" are ordinary return values (`null`/`false`).
 */
import type { JobHistoryEntry, JobListFilter, JobRecord, JobStatus } from "../core/job.ts";

/**
 * Fields of a job a transition may set. Identity and submit-time fields never change.
 * A key present with the value `undefined` removes the field (same as `unset`).
 */
export type JobPatch = Partial<
  Pick<
    JobRecord,
    | "status"
    | "progress"
    | "message"
    | "updated_at"
    | "started_at"
    | "finished_at"
    | "attempts"
    | "node_id"
    | "cancel_requested"
    | "result"
    | "error"
    | "failed_on"
    | "avoid_until"
    | "webhook"
  >
>;

/** Optional fields a transition may remove (e.g. `lease` and `node_id` on re-queue). */
export type UnsettableField = "lease" | "node_id" | "message" | "started_at" | "finished_at" | "cancel_requested" | "result" | "error";

export interface TransitionOptions {
  /** Precondition: the job's current lease token must equal this (fencing). */
  leaseToken?: number;
  /** Appended to the job's history in the same atomic step. */
  history?: JobHistoryEntry;
  /** Fields to delete after the patch is applied. */
  unset?: UnsettableField[];
  /**
   * Grant a new lease in the same step: the store issues token = last token + 1 and
   * increments `attempts` by one. (`patch.attempts`, if given, is applied first.)
   */
  grantLease?: { node_id: string; expires_at: number };
}

/** The listing filter is the API's contract too, so it lives in core/job.ts. */
export type { JobListFilter } from "../core/job.ts";

export interface JobListPage {
  /** Newest first (created_at descending). */
  jobs: JobRecord[];
  /** How many jobs match the filter in all (for pagination). */
  total: number;
}

/** job type -> status -> count. Statuses with no jobs may be absent. */
export type JobCounts = Record<string, Partial<Record<JobStatus, number>>>;

/** A node's failures of one job type (the blocklist's input). */
export interface NodeFailureCount {
  node_id: string;
  type: string;
  count: number;
  /** The reason given with the most recent failure. */
  last_reason: string;
  at: number;
}

/** The scheduler's last verdict for a job, kept for `farmctl why`. */
export interface StoredDecision {
  job_id: string;
  at: number;
  verdict: "placed" | "wait" | "impossible";
  node_id?: string;
  gpu_index: number | null;
  /** One human sentence summarising the verdict. */
  summary: string;
  /** node id -> why it was not chosen (or what it offered). May be truncated for huge farms. */
  reasons: Record<string, string>;
}

export interface JobStore {
  /**
   * Persist a new job: status `pending` without a lease (it enters the pending queue), or
   * already `running` with its first lease (token 1: created and granted in one write,
   * the coordinator's path when a node is free at submit). If `job.idempotency_key` is set
   * and a job with that key exists, nothing is written and that job is returned with
   * `created: false`.
   */
  create(job: JobRecord): Promise<{ job: JobRecord; created: boolean }>;

  /** The job, or null. */
  get(id: string): Promise<JobRecord | null>;

  /** The job created with this idempotency key, or null. */
  findByIdempotencyKey(key: string): Promise<JobRecord | null>;

  /** Jobs matching the filter, newest first, paginated; `total` counts all matches. */
  list(filter: JobListFilter): Promise<JobListPage>;

  /**
   * Atomic compare-and-set. Succeeds only if the job exists, its status is one of
   * `from`, and (when `opts.leaseToken` is given) its current lease token equals it.
   * Then applies `patch`, `opts.unset`, `opts.grantLease` and appends `opts.history`,
   * keeps the pending queue and listing indexes in step with the new status, and returns
   * the updated record. Returns null when a precondition failed (nothing written).
   * The store does not judge whether the move is legal: callers use state-machine.ts.
   */
  transition(id: string, from: readonly JobStatus[], patch: JobPatch, opts?: TransitionOptions): Promise<JobRecord | null>;

  /**
   * Progress of a running job, only if `token` is its current lease token. Returns false
   * (nothing written) for a stale token or a job that is not running.
   */
  updateProgress(id: string, token: number, progress: number, message: string | undefined, at: number): Promise<boolean>;

  /**
   * Push a running job's lease expiry to `expires_at` if `token` is current. Returns
   * false otherwise.
   */
  renewLease(id: string, token: number, expires_at: number): Promise<boolean>;

  /** Pending jobs in dispatch order: priority descending, then created_at ascending. */
  pending(limit?: number): Promise<JobRecord[]>;

  /** Every running job (with its lease). */
  running(): Promise<JobRecord[]>;

  /** Job counts by type and status. */
  counts(): Promise<JobCounts>;

  /** Count one failure of `type` on `nodeId`; returns the new count. */
  recordNodeFailure(nodeId: string, type: string, reason: string, at: number): Promise<number>;

  /** All per-node-per-type failure counters. */
  nodeFailures(): Promise<NodeFailureCount[]>;

  /** Reset the counters of a node (all types, or one). Lifts its blocklist entries. */
  clearNodeFailures(nodeId: string, type?: string): Promise<void>;

  /** Remember the latest placement decision for a job (replaces the previous one). */
  saveDecision(decision: StoredDecision): Promise<void>;

  /** The latest placement decision for a job, or null. */
  getDecision(jobId: string): Promise<StoredDecision | null>;

  /**
   * Delete finished jobs (completed, failed, cancelled) created before `before` (epoch
   * ms), with their history, idempotency key and decision. Returns how many were deleted.
   * Pending and running jobs are never purged. (Config `coordinator.job_retention_h`.)
   */
  purge(before: number): Promise<number>;

  /** Flush and release resources. The store is unusable afterwards. */
  close(): Promise<void>;
}
