/** Job records, statuses and the events that describe a job's life. Shared by every role. */
import type { SerializedError } from "./errors.ts";

/** The spec's statuses, and nothing else. */
export const JOB_STATUSES = ["pending", "running", "completed", "failed", "cancelled"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const TERMINAL_STATUSES: ReadonlySet<JobStatus> = new Set(["completed", "failed", "cancelled"]);

/** What a job needs from a node, derived from its type and params when it is submitted. */
export interface JobRequirements {
  /** Model id the job will load (a manifest model id), when the job type uses one. */
  model?: string;
  /** VRAM (MiB) that model needs on one GPU; 0 or absent for CPU work. */
  vram_mb?: number;
  /** The job must run on a GPU (no CPU fallback). */
  gpu?: boolean;
}

export interface JobLease {
  node_id: string;
  /** Monotonic per job: a report carrying an older token is rejected (fencing). */
  token: number;
  expires_at: number;
}

export interface JobHistoryEntry {
  at: number;
  event: string;
  node_id?: string;
  reason?: string;
}

export interface JobRecord {
  id: string;
  type: string;
  params: Record<string, unknown>;
  priority: number;
  status: JobStatus;
  progress: number;
  message?: string;
  created_at: number;
  updated_at: number;
  started_at?: number;
  finished_at?: number;
  attempts: number;
  max_attempts: number;
  requirements: JobRequirements;
  idempotency_key?: string;
  /** Name of the API key that submitted it (auth on), for ownership checks. */
  owner?: string;
  node_id?: string;
  lease?: JobLease;
  cancel_requested?: boolean;
  result?: Record<string, unknown> | null;
  error?: SerializedError | null;
  history: JobHistoryEntry[];
  /** Nodes (by id) this job already failed on: the scheduler avoids them on retry. */
  failed_on?: string[];
  /**
   * Until when (ms) a re-queued job waits for a busy node it has not failed on rather than
   * go back to a free one in `failed_on` (coordinator.failed_node_wait_ms after the re-queue).
   * Absent with `failed_on` set: no limit.
   */
  avoid_until?: number;
  /**
   * A parent job (e.g. a batch) runs nowhere: the coordinator creates one child job per
   * item (ids `<parent id>-<index>`) and completes the parent when every child has ended.
   * Kept on the record so a restarted coordinator can pick the parent up again.
   */
  children?: JobChildren;
  /** Set on a child job: its parent and its place in the parent's item list. */
  parent?: { id: string; index: number };
  /**
   * A chained job runs nowhere either: its steps run one after another as child jobs
   * (ids `<id>-s1`, `<id>-s2`, ...), each started when the one before completed, with the
   * previous result filled into its params (JobStep.inputs). The job ends with the last
   * step's result, or with the error of the first step that did not complete.
   */
  steps?: JobStep[];
  /** Where the job's ending is POSTed, and how delivery went (coordinator/webhooks). */
  webhook?: JobWebhook;
}

/** A job's webhook: owed (`pending`) until a receiver answers 2xx (`delivered`) or the attempts run out (`failed`). */
export interface JobWebhook {
  url: string;
  state: "pending" | "delivered" | "failed";
  /** Every delivery attempt, oldest first: HTTP status or the network error, and how long it took. */
  attempts: WebhookAttempt[];
  /** When the next attempt is due (epoch ms), while pending after a failed attempt. */
  next_at?: number;
}

export interface WebhookAttempt {
  at: number;
  status?: number;
  error?: string;
  ms: number;
}

/** One step of a chained job (JobRecord.steps). */
export interface JobStep {
  type: string;
  params: Record<string, unknown>;
  /**
   * Params taken from the previous step's result: result field -> dotted path in `params`
   * ("beat_sync.beat_markers"). A field the result lacks fails the job, naming it.
   */
  inputs?: Record<string, string>;
}

/** What a parent job fans out: one job of `type` per item, with that item as its params. */
export interface JobChildren {
  type: string;
  items: Record<string, unknown>[];
}

export interface SubmitJobInput {
  type: string;
  params?: Record<string, unknown>;
  priority?: number;
  idempotency_key?: string;
  owner?: string;
  /** Make this a parent job: one child job per item (see JobRecord.children). */
  children?: JobChildren;
  /** Make this a chained job (see JobRecord.steps); the last step's type is `type`. */
  steps?: JobStep[];
  /** http(s) URL the job's ending is POSTed to, signed (coordinator/webhooks); the API vetted it. */
  webhook_url?: string;
}

/** A job listing's filter (GET /api/v1/jobs, farmctl list, JobStore.list). */
export interface JobListFilter {
  status?: JobStatus;
  type?: string;
  /**
   * Ownership filter (combines with `status` and `type`; all must match):
   * - a name: only jobs whose `owner` is exactly this name (the API passes the calling
   *   key's name for non-admin keys);
   * - `null`: only jobs without an owner (`owner` absent or empty: anonymous submissions,
   *   or jobs submitted with auth off);
   * - absent: no ownership filter.
   * A job's owner never changes after `create`, so stores may index it once.
   */
  owner?: string | null;
  /** Page size (callers validate; stores accept any positive integer). */
  limit: number;
  offset: number;
}

/** Events published on the mesh ("job.events", gathered per turn) and forwarded to WebSocket clients. */
export type JobEvent =
  | { type: "status"; job_id: string; status: JobStatus; at: number }
  | { type: "progress"; job_id: string; progress: number; message?: string; at: number }
  | { type: "completed"; job_id: string; result: Record<string, unknown>; at: number }
  | { type: "error"; job_id: string; error: SerializedError; status: "failed" | "cancelled"; at: number };

export const isTerminal = (s: JobStatus) => TERMINAL_STATUSES.has(s);
