/**
 * Reconciliation after the job store lost data (issue 18 item 4). Redis can come back
 * empty (restarted without an append-only file, a FLUSHALL, a replica promoted empty)
 * while the coordinator keeps running: its memory still holds leases and a queue for jobs
 * the store no longer has. Left alone, agents would run those jobs to the end for nothing,
 * their reports would fail against a missing record, and API callers waiting on them
 * (sync requests, WebSockets) would wait for an ending that never comes.
 *
 * Decision: a job the store no longer knows is gone; it is not re-created from memory (its
 * params, owner and history are partly lost, and a half-restored record would be a lie).
 * Each one is logged by id, its agent is told to cancel it (the work is paid for nothing
 * otherwise), it leaves the queue and the lease table, and an error event tells every
 * waiter: SERVICE_UNAVAILABLE (retryable: submit it again), naming the loss.
 * Triggered by the store's loss watcher (coordinator/stores/redis-durability.ts); safe
 * to run at any time: a job that still exists is left as it is.
 */
import { releaseSlot, type CoordinatorContext } from "./coordinator-context.ts";

export interface ReconcileReport {
  /** Running jobs (leases) and queued jobs looked up in the store. */
  checked: number;
  /** Running jobs the store no longer has: cancelled on their agents. */
  lost_running: { job_id: string; node_id: string }[];
  /** Queued jobs the store no longer has: taken off the queue. */
  lost_pending: string[];
}

/** Store reads in flight at once: a loss is rare, the queue may be long. */
const CHUNK = 200;

export async function reconcileLostJobs(ctx: CoordinatorContext): Promise<ReconcileReport> {
  const leases = ctx.leases.all();
  const pendingIds = ctx.pending.ids();
  const ids = [...new Set([...leases.map((l) => l.job_id), ...pendingIds])];
  const missing = new Set<string>();
  for (let i = 0; i < ids.length; i += CHUNK) {
    const part = ids.slice(i, i + CHUNK);
    const found = await Promise.all(part.map((id) => ctx.store.get(id)));
    part.forEach((id, k) => {
      if (found[k] === null) missing.add(id);
    });
  }
  const report: ReconcileReport = { checked: ids.length, lost_running: [], lost_pending: [] };
  const now = ctx.clock.now();
  const lostError = (id: string) => ({
    code: "SERVICE_UNAVAILABLE" as const,
    message: `job '${id}' was lost: the job store (Redis) lost its data while the job was queued or running; submit it again`,
    details: { field: "job_id", constraint: "job_store_lost", job_id: id },
  });
  for (const l of leases) {
    if (!missing.has(l.job_id) || !ctx.leases.delete(l.job_id, l.token)) continue;
    releaseSlot(ctx, l.node_id, l.job_id, l.owner);
    report.lost_running.push({ job_id: l.job_id, node_id: l.node_id });
    ctx.dispatcher.cancelTask(l.node_id, l.job_id, l.token).catch((err: unknown) => {
      // Not delivered: the agent's next heartbeat lists a lease the coordinator no longer holds, and is told to drop it.
      ctx.log.warn("cancel of a lost job not delivered; the agent's next heartbeat drops it", { job_id: l.job_id, node_id: l.node_id, error: String(err) });
    });
    ctx.publish({ type: "error", job_id: l.job_id, error: lostError(l.job_id), status: "failed", at: now });
  }
  for (const id of pendingIds) {
    if (!missing.has(id) || !ctx.pending.remove(id)) continue;
    report.lost_pending.push(id);
    ctx.publish({ type: "error", job_id: id, error: lostError(id), status: "failed", at: now });
  }
  if (report.lost_running.length + report.lost_pending.length > 0) {
    ctx.log.error("jobs lost by the job store: running ones cancelled on their agents, queued ones dropped, waiters told", {
      lost_running: report.lost_running,
      lost_pending: report.lost_pending,
      checked: report.checked,
    });
  } else {
    ctx.log.info("job store reconciled: every queued and running job is still there", { checked: report.checked });
  }
  return report;
}
