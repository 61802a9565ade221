/**
 * What the front door needs from the farm. The mesh implementation calls the
 * coordinator service; events arrive through the api service's "job.events" handler (batched per turn).
 */
import { EventEmitter } from "node:events";
import type { JobEvent, JobListFilter, JobRecord, SubmitJobInput } from "../core/job.ts";

/** The list filter (core/job.ts) is the contract the front door passes through. */
export type { JobListFilter };

export interface FarmClient {
  submit(input: SubmitJobInput): Promise<JobRecord>;
  /** Throws NOT_FOUND. */
  get(id: string): Promise<JobRecord>;
  list(filter: JobListFilter): Promise<{ jobs: JobRecord[]; total: number }>;
  cancel(id: string): Promise<JobRecord>;
  why(id: string): Promise<Record<string, unknown>>;
  status(): Promise<Record<string, unknown>>;
  nodes(): Promise<Record<string, unknown>[]>;
  drain(nodeId: string): Promise<Record<string, unknown>>;
  undrain(nodeId: string): Promise<Record<string, unknown>>;
  /** Lift a node's blocklist (for one job type, or all) and reset its failure counters. */
  unblock(nodeId: string, type?: string): Promise<Record<string, unknown>>;
  /** Every job event seen by this API process. */
  readonly events: JobEventBus;
}

/** A local fan-out of job events keyed by job id, so a WS client or a sync wait costs O(1) per event. */
export class JobEventBus {
  private readonly byJob = new Map<string, Set<(e: JobEvent) => void>>();
  private readonly all = new EventEmitter();
  /**
   * The final event of recently ended jobs. A sync request subscribes only after submit
   * returns, and a fast job can end before that: the waiter finds its ending here instead
   * of asking the coordinator again (one mesh call and one store read less per request).
   */
  private readonly recentEnds = new Map<string, JobEvent>();
  private static readonly RECENT_MAX = 20_000;

  constructor() {
    this.all.setMaxListeners(0);
  }

  emit(e: JobEvent): void {
    if (e.type === "completed" || e.type === "error") {
      this.recentEnds.set(e.job_id, e);
      if (this.recentEnds.size > JobEventBus.RECENT_MAX) {
        // Maps iterate in insertion order: drop the oldest tenth.
        let drop = JobEventBus.RECENT_MAX / 10;
        for (const k of this.recentEnds.keys()) {
          this.recentEnds.delete(k);
          if (--drop <= 0) break;
        }
      }
    }
    const subs = this.byJob.get(e.job_id);
    if (subs) for (const fn of [...subs]) fn(e);
    this.all.emit("event", e);
  }

  /** The ending event of a job that ended recently, if this process saw it. */
  recentEnd(jobId: string): JobEvent | undefined {
    return this.recentEnds.get(jobId);
  }

  subscribe(jobId: string, fn: (e: JobEvent) => void): () => void {
    let set = this.byJob.get(jobId);
    if (!set) this.byJob.set(jobId, (set = new Set()));
    set.add(fn);
    return () => {
      set!.delete(fn);
      if (set!.size === 0) this.byJob.delete(jobId);
    };
  }

  onAny(fn: (e: JobEvent) => void): () => void {
    this.all.on("event", fn);
    return () => this.all.off("event", fn);
  }
}
