/** The Coordinator's public types: its dependencies, the agent reports it takes, and what it answers. */
import type { Clock } from "../core/clock.ts";
import type { FarmConfig } from "../core/config/schema.ts";
import type { SerializedError } from "../core/errors.ts";
import type { JobEvent, JobHistoryEntry, JobRequirements, JobStatus } from "../core/job.ts";
import type { Logger } from "../core/logger.ts";
import type { Dispatcher } from "../core/mesh-contract.ts";
import type { NodeReport } from "../core/telemetry.ts";
import type { JobCounts, JobStore, StoredDecision } from "./job-store.ts";
import type { NodeStatus } from "./node-registry.ts";
import type { QueuePolicyFor } from "./queue-policy.ts";
import type { RequirementsFor } from "./requirements.ts";
import type { Placement } from "./scheduler.ts";

export interface CoordinatorDeps {
  store: JobStore;
  clock: Clock;
  /**
   * lease_ms, max_attempts, blocklist_threshold, sweep_interval_ms; job_retention_h
   * (optional; 0 or absent keeps finished jobs forever) purges finished jobs hourly;
   * retry_backoff_ms / retry_backoff_max_ms (optional; absent = no backoff) delay retries;
   * failed_node_wait_ms (optional; absent = no limit) bounds how long a re-queued job waits
   * for a node it has not failed on.
   */
  config: Pick<FarmConfig["coordinator"], "lease_ms" | "max_attempts" | "blocklist_threshold" | "sweep_interval_ms"> &
    Partial<Pick<FarmConfig["coordinator"], "job_retention_h" | "retry_backoff_ms" | "retry_backoff_max_ms" | "failed_node_wait_ms">>;
  dispatcher: Dispatcher;
  /** Receives every job event (status, progress, completed, error). Should not throw; if it does, it is logged. */
  publish: (e: JobEvent) => void;
  logger: Logger;
  /** Override how a job's requirements are derived (default: requirements.ts). */
  requirementsFor?: RequirementsFor;
  /** Which job runs next: lanes and the order of their heads (default: one lane in dispatch order; queue-policy.ts). */
  queuePolicy?: QueuePolicyFor;
  /** Seeds for character regeneration attempts (default: crypto random; tests inject). */
  seed?: () => number;
  /**
   * The leader epoch of this coordinator's term (HA; absent with a single coordinator): the
   * running jobs it recovers are re-queued when their agent reports without them only once
   * that agent has heard of this epoch (node-events.ts); a single coordinator takes the
   * agent's first report.
   */
  leaderEpoch?: number;
}

/** An agent heartbeat: its report plus the leases it still holds (renewed when current). */
export type HeartbeatReport = NodeReport & {
  leases: { job_id: string; token: number }[];
  /** The highest leader epoch the agent has heard of (HA; absent: none, or an older agent). */
  leader_epoch?: number;
};
/**
 * The coordinator's answer to a heartbeat: leases the node listed that are no longer its own
 * (drop that work), and in HA mode the epoch this coordinator leads under.
 */
export interface HeartbeatAnswer {
  stale: { job_id: string; token: number }[];
  leader_epoch?: number;
}
export interface ProgressReport {
  node_id: string;
  job_id: string;
  token: number;
  progress: number;
  message?: string;
}
export interface CompletedReport {
  node_id: string;
  job_id: string;
  token: number;
  result: Record<string, unknown>;
  /** The task's last progress message (it comes with the completion, not as a progress report). */
  message?: string;
}
export interface FailedReport {
  node_id: string;
  job_id: string;
  token: number;
  error: SerializedError;
  retryable: boolean;
}

export interface WhyReport {
  job_id: string;
  type: string;
  status: JobStatus;
  requirements: JobRequirements;
  node_id?: string;
  attempts: number;
  max_attempts: number;
  failed_on: string[];
  /** The last decision recorded for the job (null: never considered yet, e.g. queued behind others of its class). */
  decision: StoredDecision | null;
  /** For a pending job: what the scheduler would decide right now. */
  current?: Placement;
  history: JobHistoryEntry[];
}

export interface RunningJobView {
  job_id: string;
  type: string;
  node_id: string;
  /** GPU it was placed on; null for CPU work, and for jobs recovered after a coordinator restart. */
  gpu_index: number | null;
  token: number;
  expires_at: number;
  attempts: number;
  cancel_requested: boolean;
}

export interface FarmStatus {
  nodes: NodeStatus[];
  running: RunningJobView[];
  /** Pending jobs per job type. */
  queue: Record<string, number>;
  /** All jobs in the store by type and status. */
  counts: JobCounts;
}
