/**
 * A JobStore that tells listeners about every job it creates and every status change it
 * makes, with the full record the store returned. Metrics and webhook delivery are fed
 * from here rather than from calls sprinkled through the coordinator: every state move of
 * a job is exactly one successful store write (a compare-and-set), so counting writes
 * counts each submission, start and ending once, and the record carries everything a
 * listener needs (type, model, timestamps, owner, webhook) without another store read.
 */
import type { JobRecord, JobStatus } from "../job.ts";
import type { JobListFilter, JobPatch, JobStore, StoredDecision, TransitionOptions } from "../../coordinator/job-store.ts";

export interface JobStoreListener {
  /** A job was stored (pending, or already running when placed at submit). */
  created?(rec: JobRecord): void;
  /** A job's status changed from one of `from` to `rec.status`. Same-status writes are not reported. */
  moved?(from: readonly JobStatus[], rec: JobRecord): void;
}

export class ObservedJobStore implements JobStore {
  constructor(private readonly inner: JobStore, private readonly listeners: JobStoreListener[]) {}

  async create(job: JobRecord) {
    const out = await this.inner.create(job);
    if (out.created) for (const l of this.listeners) safe(() => l.created?.(out.job));
    return out;
  }

  async transition(id: string, from: readonly JobStatus[], patch: JobPatch, opts?: TransitionOptions) {
    const rec = await this.inner.transition(id, from, patch, opts);
    if (rec && !from.includes(rec.status)) for (const l of this.listeners) safe(() => l.moved?.(from, rec));
    return rec;
  }

  get(id: string) { return this.inner.get(id); }
  findByIdempotencyKey(key: string) { return this.inner.findByIdempotencyKey(key); }
  list(filter: JobListFilter) { return this.inner.list(filter); }
  updateProgress(id: string, token: number, progress: number, message: string | undefined, at: number) { return this.inner.updateProgress(id, token, progress, message, at); }
  renewLease(id: string, token: number, expires_at: number) { return this.inner.renewLease(id, token, expires_at); }
  pending(limit?: number) { return this.inner.pending(limit); }
  running() { return this.inner.running(); }
  counts() { return this.inner.counts(); }
  recordNodeFailure(nodeId: string, type: string, reason: string, at: number) { return this.inner.recordNodeFailure(nodeId, type, reason, at); }
  nodeFailures() { return this.inner.nodeFailures(); }
  clearNodeFailures(nodeId: string, type?: string) { return this.inner.clearNodeFailures(nodeId, type); }
  saveDecision(decision: StoredDecision) { return this.inner.saveDecision(decision); }
  getDecision(jobId: string) { return this.inner.getDecision(jobId); }
  purge(before: number) { return this.inner.purge(before); }
  close() { return this.inner.close(); }
}

/** A listener's bug must never fail the store write the coordinator is waiting for. */
function safe(fn: () => void): void {
  try {
    fn();
  } catch {
    // Listeners keep their own logs; the job's state is already written.
  }
}
