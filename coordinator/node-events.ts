/**
 * Node registry events: heartbeats (which also renew the leases a node lists), a node
 * going silent or being lost, drain and blocklist changes. What a node offers lives in
 * the NodeRegistry; this file decides what each event does to the jobs on that node.
 */
import { notFound, toFarmError } from "../core/errors.ts";
import type { CoordinatorContext } from "./coordinator-context.ts";
import type { HeartbeatAnswer, HeartbeatReport } from "./coordinator-types.ts";
import type { NodeStatus } from "./node-registry.ts";
import type { OutcomeHandler } from "./outcome-handler.ts";
import type { LeaseEntry } from "./lease-table.ts";
import { checkId, checkReport } from "./validate.ts";

export class NodeEvents {
  /**
   * HA: per node, the leases recovered from the store at this term's start (`job_id:token`)
   * that its agent has not yet confirmed or denied under this term's epoch.
   */
  private readonly unconfirmed = new Map<string, Set<string>>();

  constructor(
    private readonly ctx: CoordinatorContext,
    private readonly outcomes: OutcomeHandler,
    /** This coordinator's leader epoch (HA); absent with a single coordinator. */
    private readonly leaderEpoch?: number,
  ) {}

  /**
   * A running job recovered from the store at start. Its dispatch may have died with the
   * previous coordinator (granted in the store, never sent), or the agent that ran it may
   * have died meanwhile: then no agent runs it and only its lease expiry would free it. It is
   * checked against its agent's first report to this coordinator (see confirmRecovered()).
   *
   * Its lease runs at least `lease_ms` from now: while no coordinator was there (both HA
   * coordinators down, a slow restart: 15 s in a loaded chaos scratch run; a single
   * coordinator restarted after a longer outage) nobody could hear the agents renew it, and
   * the first sweep would re-queue such a job before its agent's first report, running work
   * twice that is still being done. An agent that reports settles its jobs at once; only a
   * silent one's jobs wait out the lease.
   */
  recovered(l: LeaseEntry): void {
    l.expires_at = Math.max(l.expires_at, this.ctx.clock.now() + this.ctx.cfg.lease_ms);
    let s = this.unconfirmed.get(l.node_id);
    if (!s) this.unconfirmed.set(l.node_id, (s = new Set()));
    s.add(`${l.job_id}:${l.token}`);
  }

  /**
   * Register or update a node; renews the leases it lists whose tokens are current. Answers
   * with the leases it lists that are no longer its own (the job was re-queued or ended
   * while the node was silent), so the agent drops that work instead of finishing a copy
   * whose result would be refused. Before recovery (start) nothing is called stale.
   *
   * A report from a new process under a known node id (`started_at` changed: the agent was
   * restarted, often faster than the mesh noticed the old one's death, so no "lost" came)
   * means the old process's jobs are gone: those the new process does not list are re-queued
   * at its next heartbeat (see restarted()), not left to their lease expiry.
   */
  async heartbeat(r: HeartbeatReport): Promise<HeartbeatAnswer> {
    checkReport(r);
    const { cfg, leases } = this.ctx;
    const now = this.ctx.clock.now();
    const { leases: held, ...report } = r;
    const listed = new Set((held ?? []).map((h) => `${h.job_id}:${h.token}`));
    // A report without a usable start time (an older agent) cannot show a restart.
    const restarted = Number.isFinite(r.started_at) && this.ctx.registry.noteInstance(r.node_id, r.started_at) === "restarted";
    const orphans = restarted ? null : this.ctx.registry.takeOrphans(r.node_id);
    this.ctx.registry.upsert(report, now);
    const renewals: Promise<boolean>[] = [];
    const stale: HeartbeatAnswer["stale"] = [];
    for (const h of held ?? []) {
      const l = leases.current(h.job_id, h.token);
      if (!l || l.node_id !== r.node_id) {
        if (this.ctx.started) stale.push({ job_id: h.job_id, token: h.token });
        continue;
      }
      l.expires_at = now + cfg.lease_ms;
      if (l.expires_at - l.persisted_expires_at > cfg.lease_ms / 2) {
        l.persisted_expires_at = l.expires_at;
        renewals.push(this.ctx.store.renewLease(l.job_id, l.token, l.expires_at));
      }
    }
    await Promise.all(renewals);
    if (this.ctx.started) {
      if (restarted) this.restarted(r.node_id, listed);
      else if (orphans) await this.dropOrphans(r.node_id, orphans, listed);
      await this.confirmRecovered(r, listed);
    }
    if (this.ctx.pending.size > 0) this.ctx.kick();
    return this.leaderEpoch === undefined ? { stale } : { stale, leader_epoch: this.leaderEpoch };
  }

  /**
   * The first report from a node that can vouch for what it runs settles the jobs recovered
   * on it: a recovered job it does not list (running, or finished with its report still on
   * the way) will never run there: re-queued now. Those it lists are its own and keep their
   * leases.
   *
   * HA: the report must carry this leader's epoch. The agent refuses every dispatch of an
   * older leader once it knows a newer one (Agent.startTask), and it noted the epoch before
   * building this report; a deposed leader may still be alive and sending, so a report
   * without the epoch (sent before the agent heard of it, or by an older agent) settles
   * nothing and the lease expiry remains the fallback.
   *
   * One coordinator: any report handled after start() vouches. The previous coordinator is
   * dead (exactly one runs), so its last dispatches were published before it died; an agent
   * reaches this one only once the mesh has announced its service, after its process
   * started, and builds its report when it sends it: anything the old coordinator sent has
   * long arrived by then.
   */
  private async confirmRecovered(r: HeartbeatReport, listed: Set<string>): Promise<void> {
    const keys = this.unconfirmed.get(r.node_id);
    if (!keys) return;
    if (this.leaderEpoch !== undefined && !(typeof r.leader_epoch === "number" && r.leader_epoch >= this.leaderEpoch)) return;
    this.unconfirmed.delete(r.node_id);
    // Either the previous coordinator's dispatch never reached the agent, or the agent process that ran it died (and the previous coordinator fell before it noticed).
    const who = this.leaderEpoch === undefined ? "coordinator" : "leader";
    const why = `node ${r.node_id} does not list the job in its first report to this ${who} (its dispatch died with the previous ${who}, or the process that ran it did)`;
    const failed = await this.endLeases(
      r.node_id,
      (k) => keys.has(k) && !listed.has(k),
      // Never started anywhere: the attempt does not count (as for a dispatch refused outright).
      (l) =>
        l.cancel_requested
          ? this.outcomes.leaseLost(l, why, "NODE_LOST", false)
          : this.outcomes.finish(l, { kind: "requeue", reason: `${why}; re-queued`, avoidNode: false, restoreAttempt: true }),
      "re-queueing a recovered job failed; tried again at the node's next report",
    );
    if (failed.size > 0) this.unconfirmed.set(r.node_id, failed);
  }

  /**
   * End each of the node's leases `pick` selects (by `job_id:token`). Returns the keys whose
   * store write failed (a Redis blip): those leases are still held (finish puts them back),
   * so the caller has the node's next report settle them, instead of their lease expiry.
   */
  private async endLeases(nodeId: string, pick: (key: string) => boolean, end: (l: LeaseEntry) => Promise<unknown>, failedMsg: string): Promise<Set<string>> {
    const failed = new Set<string>();
    for (const l of this.ctx.leases.onNode(nodeId)) {
      const k = `${l.job_id}:${l.token}`;
      if (!pick(k)) continue;
      try {
        await end(l);
      } catch (err) {
        failed.add(k);
        this.ctx.log.warn(failedMsg, { job_id: l.job_id, error: toFarmError(err).message });
      }
    }
    return failed;
  }

  /**
   * The first report of a new process under `nodeId`: the leases on that node it does not
   * list belonged to the old process. They are re-queued at the new process's *next*
   * heartbeat if still unlisted then, not now: a dispatch sent just before this report was
   * read may have reached the new process after it built the report, and re-queueing that
   * job would run it twice. (The agent sends its second heartbeat right after its first.)
   */
  private restarted(nodeId: string, listed: Set<string>): void {
    const unlisted = this.ctx.leases
      .onNode(nodeId)
      .map((l) => `${l.job_id}:${l.token}`)
      .filter((k) => !listed.has(k));
    this.ctx.log.warn("node restarted under the same id", { node_id: nodeId, jobs_of_old_process: unlisted.length });
    if (unlisted.length > 0) this.ctx.registry.setOrphans(nodeId, new Set(unlisted));
  }

  private async dropOrphans(nodeId: string, orphans: Set<string>, listed: Set<string>): Promise<void> {
    const why = `node ${nodeId} restarted and its new process does not hold the job`;
    const failed = await this.endLeases(
      nodeId,
      (k) => orphans.has(k) && !listed.has(k),
      (l) => this.outcomes.leaseLost(l, why, "NODE_LOST", false),
      "re-queueing an old process's job failed; tried again at the node's next report",
    );
    if (failed.size > 0) this.ctx.registry.setOrphans(nodeId, failed);
  }

  /**
   * A node went silent but may well be alive (stalled, or the mesh itself blipped): no new
   * work goes to it, and its jobs stay leased to it. When it comes back its next heartbeat
   * renews them; when it does not, the sweep re-queues them as their leases expire. Its
   * slot bookkeeping survives (the registry keeps jobs apart from node entries).
   */
  suspect(nodeId: string, reason?: string): void {
    checkId(nodeId, "node_id");
    if (!this.ctx.registry.remove(nodeId)) return;
    this.ctx.log.warn("node silent; its jobs keep their leases until they expire", { node_id: nodeId, reason, jobs: this.ctx.leases.onNode(nodeId).length });
  }

  /** A node is known to be gone (it left, or its process died): forget it and re-queue its running jobs now. */
  async lost(nodeId: string, reason?: string): Promise<void> {
    checkId(nodeId, "node_id");
    this.ctx.registry.remove(nodeId);
    const why = `node ${nodeId} was lost${reason ? ` (${reason})` : ""}`;
    for (const l of this.ctx.leases.onNode(nodeId)) await this.outcomes.leaseLost(l, why, "NODE_LOST", false);
    this.ctx.log.warn("node lost", { node_id: nodeId, reason });
  }

  /** No new work for this node (running jobs finish). NOT_FOUND for an unknown node. */
  drain(nodeId: string): NodeStatus {
    const e = this.ctx.registry.get(checkId(nodeId, "node_id"));
    if (!e) throw notFound("node", nodeId);
    this.ctx.registry.setDrain(nodeId, true);
    return this.ctx.registry.status(e);
  }

  undrain(nodeId: string): NodeStatus {
    const e = this.ctx.registry.get(checkId(nodeId, "node_id"));
    if (!e) throw notFound("node", nodeId);
    this.ctx.registry.setDrain(nodeId, false);
    this.ctx.kick();
    return this.ctx.registry.status(e);
  }

  /**
   * Lift a node's blocklist (one type or all) and reset its failure counters. The counters
   * live in the store per node id, so a node that is offline now stays unblockable; an id
   * that is neither a live node nor has a blocklist or a counter is a typo: NOT_FOUND, as
   * drain answers (before, it answered 200 and lifted nothing).
   */
  async unblock(nodeId: string, type?: string): Promise<void> {
    checkId(nodeId, "node_id");
    if (!this.ctx.registry.get(nodeId) && !this.ctx.registry.hasBlocklist(nodeId)) {
      // Rare (an operator's command), so reading every counter is fine; the store is asked,
      // not only this coordinator's memory, so counters written under another leader count.
      const counted = (await this.ctx.store.nodeFailures()).some((f) => f.node_id === nodeId);
      if (!counted) throw notFound("node", nodeId);
    }
    await this.ctx.store.clearNodeFailures(nodeId, type);
    this.ctx.registry.unblock(nodeId, type);
    this.ctx.kick();
  }

  nodes(): NodeStatus[] {
    return this.ctx.registry.views().map((e) => this.ctx.registry.status(e));
  }
}
