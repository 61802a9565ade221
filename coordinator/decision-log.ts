/**
 * What `farmctl why` shows about placement: the per-node reasons of each decision.
 *
 * - Placements ("placed") stay in memory, bounded: one store write less per job on the hot
 *   path. The job's history keeps the placement summary durably.
 * - Waits are persisted (a queued job's reasons must survive a coordinator restart), but
 *   only when they change, so a job waiting through many rounds is written once per new
 *   reason, not once per round.
 */
import type { Clock } from "../core/clock.ts";
import { toFarmError } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import type { JobStore, StoredDecision } from "./job-store.ts";
import { storedDecision } from "./outcome.ts";
import type { Placement } from "./scheduler.ts";

/** Recent placement decisions kept in memory. */
const PLACED_KEEP = 20_000;

export class DecisionLog {
  private readonly placed = new Map<string, StoredDecision>();
  /** job id -> summary of the last "wait" decision saved. */
  private readonly lastWait = new Map<string, string>();

  constructor(
    private readonly store: JobStore,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  placedAt(jobId: string, d: Placement, at: number): void {
    this.lastWait.delete(jobId);
    this.placed.delete(jobId);
    this.placed.set(jobId, storedDecision(jobId, d, at));
    if (this.placed.size > PLACED_KEEP) {
      const oldest = this.placed.keys().next();
      if (!oldest.done) this.placed.delete(oldest.value);
    }
  }

  waiting(jobId: string, d: Placement): void {
    if (this.lastWait.get(jobId) === d.summary) return;
    this.lastWait.set(jobId, d.summary);
    this.store
      .saveDecision(storedDecision(jobId, d, this.clock.now()))
      .catch((err: unknown) => this.log.warn("could not save decision", { job_id: jobId, error: toFarmError(err).message }));
  }

  /** The job left the queue without a placement (cancelled). */
  forget(jobId: string): void {
    this.lastWait.delete(jobId);
  }

  /** The latest decision about a job: a recent placement, else the last persisted one. */
  async latest(jobId: string): Promise<StoredDecision | null> {
    return this.placed.get(jobId) ?? (await this.store.getDecision(jobId));
  }
}
