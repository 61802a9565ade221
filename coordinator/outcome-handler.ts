/**
 * Outcome handling: what agents report about running jobs (progress, completion,
 * failure), and what the sweep finds (expired leases, finished jobs past retention).
 * Every ending is one compare-and-set in the store guarded by the lease's fencing token
 * (`finish`), so a late or duplicate report never wins; re-queues, retry backoff and the
 * per-type blocklist are decided here.
 */
import { FarmError, toFarmError, type ErrorCode, type SerializedError } from "../core/errors.ts";
import type { JobRecord } from "../core/job.ts";
import { releaseSlot, type CoordinatorContext } from "./coordinator-context.ts";
import type { CompletedReport, FailedReport, ProgressReport } from "./coordinator-types.ts";
import type { LeaseEntry } from "./lease-table.ts";
import { blockReason, NOT_NODE_FAULT, outcomeWrite, queued, type Outcome } from "./outcome.ts";
import { retryDelayMs } from "./retry-backoff.ts";
import { moveJob } from "./state-machine.ts";
import { checkId, checkProgress, checkToken } from "./validate.ts";
import { heldLease } from "./result-guard.ts";
import { perfMark } from "../core/perf-spans.ts";

/** How often the sweep purges finished jobs past job_retention_h. */
const PURGE_EVERY_MS = 3_600_000;

export class OutcomeHandler {
  private sweeping = false;
  private lastPurge = 0;

  constructor(private readonly ctx: CoordinatorContext) {}

  async reportProgress(r: ProgressReport): Promise<void> {
    const id = checkId(r.job_id);
    const token = checkToken(r.token);
    const progress = checkProgress(r.progress);
    const message = typeof r.message === "string" ? r.message : undefined;
    const l = heldLease(this.ctx.leases, id, token, r.node_id);
    const now = this.ctx.clock.now();
    if (!l) throw this.notHeld(r.node_id, id, token);
    if (!(await this.ctx.store.updateProgress(id, token, progress, message, now))) throw stale(r.node_id, id, token);
    l.expires_at = Math.max(l.expires_at, now + this.ctx.cfg.lease_ms); // a job that reports is alive
    this.ctx.publish(
      message === undefined ? { type: "progress", job_id: id, progress, at: now } : { type: "progress", job_id: id, progress, message, at: now },
    );
  }

  async reportCompleted(r: CompletedReport): Promise<void> {
    perfMark(r.job_id, "completed_in");
    const l = heldLease(this.ctx.leases, checkId(r.job_id), checkToken(r.token), r.node_id);
    if (!l) throw this.notHeld(r.node_id, r.job_id, r.token);
    const result = r.result && typeof r.result === "object" ? r.result : {};
    const done = l.cancel_requested
      ? await this.finish(l, { kind: "cancelled", reason: `cancelled by request (node ${l.node_id} finished anyway; result discarded)` })
      : await this.finish(l, typeof r.message === "string" ? { kind: "completed", result, message: r.message } : { kind: "completed", result });
    if (!done) throw stale(r.node_id, r.job_id, r.token);
  }

  /**
   * A failed attempt. Retryable and attempts left -> back to pending (the node is
   * remembered in failed_on); otherwise failed with a readable reason. Node faults count
   * toward the per-type blocklist.
   * Hand-back: an agent that gives a job back unfinished (drain timeout, shutdown) reports
   * `{code: "NODE_LOST", retryable: true}`: the job is re-queued without spending an
   * attempt and without counting against the node.
   */
  async reportFailed(r: FailedReport): Promise<void> {
    const l = heldLease(this.ctx.leases, checkId(r.job_id), checkToken(r.token), r.node_id);
    if (!l) throw this.notHeld(r.node_id, r.job_id, r.token);
    const err: SerializedError =
      r.error && typeof r.error.message === "string"
        ? toFarmError(r.error).toJSON()
        : { code: "INTERNAL_ERROR", message: "agent reported a failure without an error" };
    const what = `${err.code}: ${err.message}`;
    let outcome: Outcome;
    if (l.cancel_requested || err.code === "JOB_CANCELLED") {
      outcome = { kind: "cancelled", reason: l.cancel_requested ? "cancelled by request" : `cancelled on node ${l.node_id}: ${err.message}` };
    } else if (err.code === "NODE_LOST" && r.retryable === true) {
      outcome = { kind: "requeue", reason: `handed back by node ${l.node_id}: ${err.message}`, avoidNode: true, restoreAttempt: true };
    } else {
      if (!NOT_NODE_FAULT.has(err.code)) await this.countFailure(l.node_id, l.type, what);
      const delayMs = retryDelayMs(l.attempts, this.ctx.cfg);
      outcome =
        r.retryable === true && l.attempts < l.max_attempts
          ? {
              kind: "requeue",
              reason: `${what} on node ${l.node_id} (attempt ${l.attempts}/${l.max_attempts}); retrying${delayMs > 0 ? ` in ${(delayMs / 1000).toFixed(1)} s` : ""}`,
              avoidNode: true,
              delayMs,
            }
          : {
              kind: "failed",
              error: r.retryable === true ? { ...err, message: `${err.message} (gave up after ${l.attempts} attempts; last on node ${l.node_id})` } : err,
              reason: `${what} on node ${l.node_id}`,
            };
    }
    if (!(await this.finish(l, outcome))) throw stale(r.node_id, r.job_id, r.token);
  }

  /**
   * Expire leases whose time is up, and (hourly, when job_retention_h > 0) purge old
   * finished jobs. Runs on the sweep timer.
   */
  async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const now = this.ctx.clock.now();
      for (const l of this.ctx.leases.expired(now)) {
        await this.leaseLost(l, `lease expired on node ${l.node_id}`, "TIMEOUT", true);
      }
      const retentionMs = (this.ctx.cfg.job_retention_h ?? 0) * 3_600_000;
      if (retentionMs > 0 && now - this.lastPurge >= PURGE_EVERY_MS) {
        this.lastPurge = now;
        const n = await this.ctx.store.purge(now - retentionMs);
        if (n > 0) this.ctx.log.info("purged finished jobs past retention", { count: n, job_retention_h: this.ctx.cfg.job_retention_h });
      }
    } catch (err) {
      this.ctx.log.error("lease sweep failed", { error: toFarmError(err).message });
    } finally {
      this.sweeping = false;
    }
  }

  /** The lease ended without a report (expired, node lost): cancelled if asked, else re-queued or failed once attempts run out. */
  async leaseLost(l: LeaseEntry, why: string, code: ErrorCode, countsAgainstNode: boolean): Promise<void> {
    let outcome: Outcome;
    if (l.cancel_requested) outcome = { kind: "cancelled", reason: `cancelled by request (${why})` };
    else {
      if (countsAgainstNode) await this.countFailure(l.node_id, l.type, why);
      outcome =
        l.attempts < l.max_attempts
          ? { kind: "requeue", reason: `${why} (attempt ${l.attempts}/${l.max_attempts}); re-queued`, avoidNode: true }
          : { kind: "failed", error: { code, message: `${why} after ${l.attempts} attempts` }, reason: `${why} after ${l.attempts} attempts` };
    }
    await this.finish(l, outcome);
  }

  /**
   * Apply an outcome to a running job: one CAS in the store guarded by the lease token,
   * then the in-memory bookkeeping and events. Returns null when the token was stale.
   */
  async finish(l: LeaseEntry, o: Outcome): Promise<JobRecord | null> {
    const { leases, clock, log } = this.ctx;
    // Claim the lease in memory first so a concurrent report/sweep sees it gone at once.
    if (!leases.delete(l.job_id, l.token)) return null;
    const now = clock.now();
    const { to, patch, unset, history } = outcomeWrite(l, o, now, this.ctx.cfg.failed_node_wait_ms);
    let rec: JobRecord | null;
    try {
      rec = await moveJob(this.ctx.store, l.job_id, "running", to, patch, { leaseToken: l.token, unset, history });
    } catch (err) {
      leases.set(l); // nothing changed in the store: keep tracking the lease
      throw err;
    }
    releaseSlot(this.ctx, l.node_id, l.job_id, l.owner);
    perfMark(l.job_id, "store_moved");
    if (!rec) return null;
    if (rec.status === "pending") {
      const delayMs = o.kind === "requeue" ? (o.delayMs ?? 0) : 0;
      if (delayMs > 0) this.requeueLater(rec, delayMs);
      else this.ctx.pending.add(queued(rec));
      this.ctx.publish({ type: "status", job_id: rec.id, status: "pending", at: now });
      log.info("job re-queued", { job_id: rec.id, reason: history.reason });
    } else {
      this.ctx.publishEnd(rec, now);
      // One line per outcome so operators can follow jobs in the log (benches run at "warn").
      log.info(`job ${rec.status}`, {
        job_id: rec.id,
        type: rec.type,
        node_id: l.node_id,
        attempts: rec.attempts,
        ms: now - rec.created_at,
        ...(rec.status === "completed" ? {} : { reason: history.reason }),
      });
    }
    this.ctx.kick();
    return rec;
  }

  /**
   * Retry backoff: the job is pending in the store at once (so it survives a restart, which
   * queues it without the wait) and joins the in-memory queue when its delay is over.
   */
  private requeueLater(rec: JobRecord, delayMs: number): void {
    const job = queued(rec);
    const timer = setTimeout(() => {
      this.ctx.delayed.delete(job.id);
      if (!this.ctx.started) return;
      this.ctx.pending.add(job);
      this.ctx.kick();
    }, delayMs);
    timer.unref();
    this.ctx.delayed.set(job.id, timer);
  }

  /**
   * A report for a lease this coordinator does not hold. Before start() has recovered the
   * leases (one coordinator serves on the mesh while it reads the store) every lease looks
   * unknown: STALE_LEASE then would make the agent abort a running job (progress) or drop
   * a finished job's result (completion), so the work is paid twice. SERVICE_UNAVAILABLE
   * instead: progress is dropped, outcome reports are retried until the leases are known.
   */
  private notHeld(nodeId: unknown, jobId: unknown, token: unknown): FarmError {
    if (this.ctx.started) return stale(nodeId, jobId, token);
    return new FarmError(
      "SERVICE_UNAVAILABLE",
      `report for job '${String(jobId)}' not taken: the coordinator is not serving (starting or stopping); send it again`,
      {
        constraint: "coordinator_started",
        job_id: jobId,
      },
    );
  }

  private async countFailure(nodeId: string, type: string, what: string): Promise<void> {
    const n = await this.ctx.store.recordNodeFailure(nodeId, type, what, this.ctx.clock.now());
    if (n >= this.ctx.cfg.blocklist_threshold && !this.ctx.registry.isBlocked(nodeId, type)) {
      const reason = blockReason(n, type, what);
      this.ctx.registry.block(nodeId, type, reason);
      this.ctx.log.warn("node blocklisted for job type", { node_id: nodeId, type, reason });
    }
  }
}

function stale(nodeId: unknown, jobId: unknown, token: unknown): FarmError {
  return new FarmError(
    "STALE_LEASE",
    `report for job '${String(jobId)}' from node '${String(nodeId)}' with token ${String(token)} ignored: that lease is no longer current`,
    {
      field: "token",
      constraint: "current_lease",
      job_id: jobId,
      node_id: nodeId,
    },
  );
}
