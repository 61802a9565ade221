/**
 * The messages between coordinator and agents, independent of transport. The Moleculer
 * services (mesh/coordinator-service.ts, mesh/agent-service.ts) carry exactly these; the
 * Coordinator and Agent classes never see Moleculer, so they are unit-testable.
 */
import type { SerializedError } from "./errors.ts";
import type { NodeReport } from "./telemetry.ts";

/** Coordinator -> agent: run this job under this lease. */
export interface DispatchTask {
  job_id: string;
  type: string;
  params: Record<string, unknown>;
  model?: string;
  /** GPU index the scheduler chose (null = CPU). */
  gpu_index: number | null;
  attempt: number;
  /** Fencing token; every report about this job must carry it. */
  token: number;
  lease_ms: number;
  /** The leader epoch of the coordinator that sent it (HA; absent with a single coordinator). */
  epoch?: number;
}

/** Coordinator side of the wire: how it reaches agents. */
export interface Dispatcher {
  /** Resolve once the agent accepted the task (not when it finished). Reject if refused/unreachable. */
  startTask(nodeId: string, task: DispatchTask): Promise<void>;
  /** Ask the agent to abort a running job. Best effort. */
  cancelTask(nodeId: string, jobId: string, token: number): Promise<void>;
}

/** Agent side of the wire: how it reports back to the coordinator. */
export interface AgentReporter {
  progress(r: { node_id: string; job_id: string; token: number; progress: number; message?: string }): Promise<void>;
  /** `message`: the task's last progress message, sent with the completion instead of as its own progress call. */
  completed(r: { node_id: string; job_id: string; token: number; result: Record<string, unknown>; message?: string }): Promise<void>;
  failed(r: { node_id: string; job_id: string; token: number; error: SerializedError; retryable: boolean }): Promise<void>;
  /**
   * Heartbeat with telemetry + the leases the agent still holds (renews them), and the
   * highest leader epoch it has heard of (HA: see Agent.noteLeaderEpoch).
   */
  heartbeat(r: NodeReport & { leases: { job_id: string; token: number }[]; leader_epoch?: number }): Promise<void>;
}

/** An outcome report as it travels in `coordinator.reportMany` (several per message). */
export type AgentReport = ({ kind: "completed" } & Parameters<AgentReporter["completed"]>[0]) | ({ kind: "failed" } & Parameters<AgentReporter["failed"]>[0]);
