/**
 * What the coordinator's parts share (coordinator.ts is the facade; dispatch-rounds.ts,
 * outcome-handler.ts and node-events.ts each own one seam): the injected dependencies,
 * the in-memory tables that mirror the store, and the few calls every part makes.
 * One object, built once by the Coordinator, so the parts see the same tables and the
 * same `started` flag without reaching into each other.
 */
import type { Clock } from "../core/clock.ts";
import type { JobEvent, JobRecord } from "../core/job.ts";
import type { Logger } from "../core/logger.ts";
import type { Dispatcher } from "../core/mesh-contract.ts";
import type { CoordinatorDeps } from "./coordinator-types.ts";
import type { DecisionLog } from "./decision-log.ts";
import type { JobStore } from "./job-store.ts";
import type { LeaseTable } from "./lease-table.ts";
import type { NodeRegistry } from "./node-registry.ts";
import type { PendingIndex } from "./pending-index.ts";
import type { OwnerLoad } from "./queue-policy.ts";
import type { RequirementsFor } from "./requirements.ts";

/** How many per-node reasons a stored decision keeps (farms can have thousands of nodes). */
export const MAX_STORED_REASONS = 50;

export interface CoordinatorContext {
  readonly store: JobStore;
  readonly clock: Clock;
  readonly cfg: CoordinatorDeps["config"];
  readonly dispatcher: Dispatcher;
  readonly log: Logger;
  readonly requirementsFor: RequirementsFor;
  /** Pending jobs by requirement class (the dispatch queue). */
  readonly pending: PendingIndex;
  /** Granted leases, one per running job. */
  readonly leases: LeaseTable;
  readonly registry: NodeRegistry;
  /** Jobs running or being granted per owner (what the queue policy may consult). */
  readonly load: OwnerLoad;
  readonly decisions: DecisionLog;
  /** Jobs waiting out a retry backoff before they rejoin `pending` (job id -> timer). */
  readonly delayed: Map<string, NodeJS.Timeout>;
  /** True from the end of recovery (start) until stop. */
  started: boolean;
  /** Ask for a dispatch round soon; many triggers in one tick coalesce into one round. */
  kick(): void;
  /** Send a job event; a failing publisher is logged, never thrown to the caller. */
  publish(e: JobEvent): void;
  /** A job reached a terminal status: tell its parent flow (if any) and the watchers. */
  publishEnd(rec: JobRecord, at: number): void;
}

/**
 * Reserve a slot on `nodeId` for a job: before its store write (synchronously), so
 * decisions taken meanwhile already count it, and counted for its owner.
 */
export function reserveSlot(
  ctx: CoordinatorContext,
  nodeId: string,
  job: { id: string; owner?: string; requirements: JobRecord["requirements"] },
  gpu: number | null,
): void {
  ctx.registry.addJob(nodeId, job.id, gpu, job.requirements.model);
  ctx.load.add(job.owner);
}

/** Give back what `reserveSlot` took (the job ended, moved, or its grant failed). */
export function releaseSlot(ctx: CoordinatorContext, nodeId: string, jobId: string, owner: string | undefined): void {
  if (ctx.registry.removeJob(nodeId, jobId)) ctx.load.remove(owner);
}
