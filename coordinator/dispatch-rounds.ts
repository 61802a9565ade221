/**
 * Dispatch: placing jobs on nodes. A new job is placed at submit when nothing waits and a
 * node is free (one store write); otherwise it queues and a dispatch round places pending
 * jobs in priority order, trying the head of each requirement class (and looking past a
 * head that waits only to avoid a node it failed on, see dispatchRound). Each grant
 * reserves its slot in the registry before its store write and then sends the task to
 * the node; a node that refuses hands the job back through the outcome handler.
 */
import { FarmError, toFarmError } from "../core/errors.ts";
import type { JobRecord } from "../core/job.ts";
import type { DispatchTask } from "../core/mesh-contract.ts";
import { CoalescedRunner } from "./coalesced-runner.ts";
import { MAX_STORED_REASONS, releaseSlot, reserveSlot, type CoordinatorContext } from "./coordinator-context.ts";
import { leaseEntry, type LeaseEntry } from "./lease-table.ts";
import type { OutcomeHandler } from "./outcome-handler.ts";
import { queued } from "./outcome.ts";
import type { QueuedJob } from "./pending-index.ts";
import { schedule, type Placement } from "./scheduler.ts";
import { moveJob } from "./state-machine.ts";
import { grantedAtSubmit, grantWrite } from "./submission.ts";

/** Back-off before retrying the dispatch loop after a store failure. */
const RETRY_AFTER_STORE_ERROR_MS = 1000;

/**
 * At most this many heads a round looks past (all lanes together), so a round costs at most
 * this many extra placement decisions however many re-queued jobs wait. Once the budget is
 * spent, a lane whose head waits is skipped as before: the jobs behind it wait until the
 * head's avoid window ends (failed_node_wait_ms). Re-queued jobs come from lost or failing
 * nodes, a node's slots at a time, so the budget covers the usual case.
 */
export const MAX_PASSED_PER_ROUND = 64;

export class DispatchRounds {
  private readonly loop: CoalescedRunner;
  /** A round at the earliest `avoid_until` of a job left waiting, so its wait ends on time even when no heartbeat or outcome comes. */
  private wake: { at: number; timer: NodeJS.Timeout } | undefined;

  constructor(
    private readonly ctx: CoordinatorContext,
    private readonly outcomes: OutcomeHandler,
  ) {
    this.loop = new CoalescedRunner(
      () => this.dispatchRound(),
      (err) => ctx.log.error("dispatch round failed; retrying shortly", { error: toFarmError(err).message }),
      RETRY_AFTER_STORE_ERROR_MS,
    );
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    if (this.wake) clearTimeout(this.wake.timer);
    this.wake = undefined;
    return this.loop.stop();
  }

  /** Resolves once no dispatch round is running or scheduled. */
  idle(): Promise<void> {
    return this.loop.idle();
  }

  /** Ask for a dispatch round soon; many triggers in one tick coalesce into one round. */
  kick(): void {
    this.loop.kick();
  }

  /** Store a new job record: placed at once when a node is free and nothing waits, else queued. */
  async createJob(rec: JobRecord, now: number): Promise<JobRecord> {
    const fast = this.placeAtSubmit(rec);
    if (fast) return this.createGranted(rec, fast, now);
    const { job, created } = await this.ctx.store.create(rec);
    if (created) {
      this.ctx.pending.add(queued(job));
      // No "pending" event: the submitter has the record, and a WebSocket client that
      // connects later receives the current state first.
      this.kick();
    }
    return job;
  }

  /**
   * When nothing waits in the queue and a node can take the job now, it is created
   * already running there: one store write and no dispatch round instead of two writes
   * with a round between them. (With jobs waiting, a new one queues behind them: never
   * jumps the priority order.)
   */
  private placeAtSubmit(rec: JobRecord): Placement | null {
    if (!this.ctx.started || this.ctx.pending.size > 0 || rec.idempotency_key !== undefined) return null;
    const views = this.ctx.registry.views();
    if (views.length === 0) return null;
    const d = schedule(rec, views, { maxReasons: MAX_STORED_REASONS });
    return d.verdict === "placed" && d.node_id !== undefined ? d : null;
  }

  private async createGranted(rec: JobRecord, d: Placement, now: number): Promise<JobRecord> {
    const nodeId = d.node_id!;
    const running = grantedAtSubmit(rec, d, now, this.ctx.cfg.lease_ms);
    reserveSlot(this.ctx, nodeId, rec, d.gpu_index); // reserved before the write, as in grant()
    // The store write and the dispatch go out together instead of one after the other (a
    // store round trip less before the job starts). Safe because every later write about
    // this job (progress, completion) goes to the store after this one on the same
    // connection, so the store applies them in order; and if the write fails, the agent
    // is told to stop and its lease is dropped here, so its reports are refused as stale.
    const created = this.ctx.store.create(running);
    this.startGranted(running, d, now);
    let out: { job: JobRecord; created: boolean };
    try {
      out = await created;
      if (!out.created) throw new FarmError("CONFLICT", `job ${rec.id} already exists`); // cannot happen without an idempotency key
    } catch (err) {
      this.revokeAtSubmit(rec, nodeId);
      throw err;
    }
    return out.job;
  }

  private revokeAtSubmit(rec: JobRecord, nodeId: string): void {
    if (!this.ctx.leases.delete(rec.id, 1)) return;
    releaseSlot(this.ctx, nodeId, rec.id, rec.owner);
    this.ctx.dispatcher.cancelTask(nodeId, rec.id, 1).catch(() => {}); // best effort: its reports are refused anyway
  }

  /**
   * Place pending jobs in priority order, trying the head of each requirement class.
   *
   * A head that waits only because the free node that fits it is one it failed on (the
   * scheduler's `avoiding`, during its avoid window) is looked past: it is set aside for the
   * round and the job behind it in the same lane is tried, so fresh jobs run on that node
   * instead of queueing behind it. Priority order holds among jobs that can run (the next
   * job competes with the other lanes' heads as usual); the head keeps its place and gets
   * the next node it may use. At most MAX_PASSED_PER_ROUND heads are looked past per round;
   * any other wait skips the lane (jobs of one class wait for the same capacity).
   *
   * Grants are not awaited one by one: each reserves its slot in the registry before its
   * store write, so the next decision already sees it, and the round's store writes go out
   * together (one Redis round trip for a whole round instead of one per job).
   */
  private async dispatchRound(): Promise<void> {
    const { registry, pending, decisions } = this.ctx;
    const skip = new Set<string>();
    const grants: Promise<void>[] = [];
    let passed = 0;
    try {
      for (;;) {
        const views = registry.views();
        if (views.length === 0) break;
        const next = pending.next(skip);
        if (!next) break;
        const d = schedule(next.job, views, { maxReasons: MAX_STORED_REASONS, now: this.ctx.clock.now() });
        if (d.verdict !== "placed" || d.node_id === undefined) {
          decisions.waiting(next.job.id, d);
          if (d.verdict === "wait" && next.job.avoid_until !== undefined) this.wakeAt(next.job.avoid_until);
          if (d.avoiding && passed < MAX_PASSED_PER_ROUND && pending.passHead(next.key, next.job.id)) passed++;
          else skip.add(next.key);
          continue;
        }
        pending.remove(next.job.id);
        grants.push(this.grant(next.job, d));
      }
    } finally {
      pending.restorePassed();
    }
    const failed = (await Promise.allSettled(grants)).find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  }

  private wakeAt(at: number): void {
    const now = this.ctx.clock.now();
    if (at <= now || (this.wake && this.wake.at <= at)) return;
    if (this.wake) clearTimeout(this.wake.timer);
    const timer = setTimeout(() => {
      this.wake = undefined;
      if (this.ctx.started) this.kick();
    }, at - now);
    timer.unref();
    this.wake = { at, timer };
  }

  /** Grant `job` to the placement's node: reserve the slot, one CAS in the store, then dispatch. Rejects only on a store failure (the job is then pending again). */
  private async grant(job: QueuedJob, d: Placement): Promise<void> {
    const { registry, pending } = this.ctx;
    const nodeId = d.node_id!;
    if (!registry.get(nodeId)) {
      pending.add(job); // the node left while the round ran; the next try sees it gone
      return;
    }
    const now = this.ctx.clock.now();
    // Reserved before the store write (synchronously), so decisions taken meanwhile count it.
    reserveSlot(this.ctx, nodeId, job, d.gpu_index);
    const { patch, history } = grantWrite(d, now);
    let rec: JobRecord | null;
    try {
      rec = await moveJob(this.ctx.store, job.id, "pending", "running", patch, {
        grantLease: { node_id: nodeId, expires_at: now + this.ctx.cfg.lease_ms },
        unset: ["message"],
        history,
      });
    } catch (err) {
      releaseSlot(this.ctx, nodeId, job.id, job.owner);
      pending.add(job); // still pending in the store
      throw err;
    }
    if (!rec || !rec.lease) {
      // cancelled meanwhile
      releaseSlot(this.ctx, nodeId, job.id, job.owner);
      return;
    }
    this.startGranted(rec, d, now);
  }

  /** A job just granted in the store (slot already reserved): track its lease, tell watchers, send it to the node. */
  private startGranted(rec: JobRecord, d: Placement, now: number): void {
    const l = leaseEntry(rec, d.gpu_index);
    if (!l) return;
    this.ctx.leases.set(l);
    this.ctx.publish({ type: "status", job_id: rec.id, status: "running", at: now });
    this.ctx.decisions.placedAt(rec.id, d, now);
    const task: DispatchTask = {
      job_id: rec.id,
      type: rec.type,
      params: rec.params,
      gpu_index: d.gpu_index,
      attempt: rec.attempts,
      token: l.token,
      lease_ms: this.ctx.cfg.lease_ms,
    };
    if (rec.requirements.model !== undefined) task.model = rec.requirements.model;
    this.ctx.dispatcher.startTask(l.node_id, task).catch((err: unknown) => void this.dispatchFailed(l, err));
  }

  /** The agent refused or was unreachable: hand the job back (the attempt does not count) and skip the node until its next heartbeat. */
  private async dispatchFailed(l: LeaseEntry, err: unknown): Promise<void> {
    const msg = toFarmError(err).message;
    const e = this.ctx.registry.get(l.node_id);
    if (e) e.unavailable = `refused or unreachable at dispatch (${msg}); retried after its next heartbeat`;
    this.ctx.log.warn("dispatch failed; job re-queued", { job_id: l.job_id, node_id: l.node_id, error: msg });
    if (this.ctx.leases.current(l.job_id, l.token)) {
      await this.outcomes
        .finish(l, { kind: "requeue", reason: `dispatch to node ${l.node_id} failed: ${msg}`, avoidNode: false, restoreAttempt: true })
        .catch((e2: unknown) => {
          this.ctx.log.error("could not re-queue after failed dispatch; the lease expiry will", { job_id: l.job_id, error: toFarmError(e2).message });
        });
    }
  }
}
