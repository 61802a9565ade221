/**
 * The Coordinator: the farm's job brain, independent of any transport. The Moleculer
 * service wraps these methods one to one; tests drive them with a fake Dispatcher and a
 * ManualClock.
 *
 * This file is the facade: lifecycle, the job queries and cancel. The seams live beside
 * it, sharing one CoordinatorContext (coordinator-context.ts):
 * - job-intake.ts: submission (what a job needs, whether it is possible, parent flows);
 * - dispatch-rounds.ts: placing jobs (at submit when a node is free, else in rounds);
 * - outcome-handler.ts: agent reports, lease expiry, re-queues and the blocklist;
 * - node-events.ts: heartbeats, silent and lost nodes, drain.
 *
 * Hot path (submit -> dispatch -> complete): two store writes per job when a node is free
 * at submit (created running, complete), three when it queued first (create, grant,
 * complete), and no O(queue) work: pending jobs live in an in-memory index grouped by
 * requirement class and only class heads are tried.
 * The store stays the source of truth: every status change is a compare-and-set there,
 * guarded by the lease's fencing token, so a late or duplicate report never wins.
 */
import { FarmError, notFound, toFarmError } from "../core/errors.ts";
import type { JobEvent, JobRecord, JobStatus, SubmitJobInput } from "../core/job.ts";
import type {
  CompletedReport,
  CoordinatorDeps,
  FailedReport,
  FarmStatus,
  HeartbeatAnswer,
  HeartbeatReport,
  ProgressReport,
  WhyReport,
} from "./coordinator-types.ts";
import { reserveSlot, type CoordinatorContext } from "./coordinator-context.ts";
import { DecisionLog } from "./decision-log.ts";
import { DispatchRounds } from "./dispatch-rounds.ts";
import { JobChains } from "./job-chains.ts";
import { JobIntake } from "./job-intake.ts";
import type { JobListPage } from "./job-store.ts";
import { leaseEntry, LeaseTable } from "./lease-table.ts";
import { NodeEvents } from "./node-events.ts";
import { NodeRegistry, type NodeStatus } from "./node-registry.ts";
import { OutcomeHandler } from "./outcome-handler.ts";
import { blockReason, queued } from "./outcome.ts";
import { PendingIndex } from "./pending-index.ts";
import { dispatchOrderPolicy, OwnerLoad } from "./queue-policy.ts";
import { ParentJobs } from "./parent-jobs.ts";
import { CHARACTER_JOB_TYPE, CharacterFlows } from "./character-flow.ts";
import { defaultRequirementsFor } from "./requirements.ts";
import { schedule } from "./scheduler.ts";
import { assertTransition, moveJob, updateJob } from "./state-machine.ts";
import { checkId, checkListFilter } from "./validate.ts";
import { reconcileLostJobs, type ReconcileReport } from "./reconcile.ts";

export type {
  CompletedReport,
  CoordinatorDeps,
  FailedReport,
  FarmStatus,
  HeartbeatAnswer,
  HeartbeatReport,
  ProgressReport,
  RunningJobView,
  WhyReport,
} from "./coordinator-types.ts";
export type { NodeStatus } from "./node-registry.ts";

/** How many per-node reasons why() computes live. */
const MAX_WHY_REASONS = 500;

export class Coordinator {
  private readonly ctx: CoordinatorContext;
  private readonly publishFn: CoordinatorDeps["publish"];
  private readonly dispatch: DispatchRounds;
  private readonly outcomes: OutcomeHandler;
  private readonly nodeEvents: NodeEvents;
  private readonly intake: JobIntake;
  /** Batches: parent jobs that end when their children have (parent-jobs.ts). */
  private readonly parents: ParentJobs;
  /** image.character: generate, check the face, regenerate (character-flow.ts). */
  private readonly characters: CharacterFlows;
  /** Chained jobs: steps fed by the previous result (job-chains.ts). */
  private readonly chains: JobChains;
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(deps: CoordinatorDeps) {
    const log = deps.logger.child({ role: "coordinator" });
    this.publishFn = deps.publish;
    const load = new OwnerLoad();
    this.ctx = {
      store: deps.store,
      clock: deps.clock,
      cfg: deps.config,
      dispatcher: deps.dispatcher,
      log,
      requirementsFor: deps.requirementsFor ?? defaultRequirementsFor,
      pending: new PendingIndex((deps.queuePolicy ?? dispatchOrderPolicy)(load)),
      leases: new LeaseTable(),
      registry: new NodeRegistry(),
      load,
      decisions: new DecisionLog(deps.store, deps.clock, log),
      delayed: new Map(),
      started: false,
      kick: () => this.dispatch.kick(),
      publish: (e) => this.publish(e),
      publishEnd: (rec, at) => this.publishEnd(rec, at),
    };
    this.outcomes = new OutcomeHandler(this.ctx);
    this.dispatch = new DispatchRounds(this.ctx, this.outcomes);
    this.nodeEvents = new NodeEvents(this.ctx, this.outcomes, deps.leaderEpoch);
    this.parents = new ParentJobs({
      store: this.ctx.store,
      clock: this.ctx.clock,
      log: this.ctx.log,
      submitChild: (parent, index) => this.intake.submitChild(parent, index),
      cancelChild: async (id) => void (await this.cancel(id)),
      publish: (e) => this.publish(e),
      publishEnd: (rec) => this.publishEnd(rec, this.ctx.clock.now()),
    });
    this.characters = new CharacterFlows(
      {
        store: this.ctx.store,
        clock: this.ctx.clock,
        log: this.ctx.log,
        submitStep: (parent, id, type, params) => this.intake.createChild(parent, id, Number(/(\d+)$/.exec(id)?.[1] ?? 0), type, params),
        cancelChild: async (id) => void (await this.cancel(id)),
        publish: (e) => this.publish(e),
        publishEnd: (rec) => this.publishEnd(rec, this.ctx.clock.now()),
      },
      deps.seed,
    );
    this.chains = new JobChains({
      store: this.ctx.store,
      clock: this.ctx.clock,
      log: this.ctx.log,
      submitStep: (parent, id, index, type, params) => this.intake.createChild(parent, id, index, type, params),
      cancelChild: async (id) => void (await this.cancel(id)),
      publish: (e) => this.publish(e),
      publishEnd: (rec) => this.publishEnd(rec, this.ctx.clock.now()),
    });
    this.intake = new JobIntake(this.ctx, this.dispatch, { parents: this.parents, characters: this.characters, chains: this.chains });
  }

  // --- lifecycle ---------------------------------------------------------------

  /**
   * Recover from the store and start the lease sweep. Pending jobs are queued again;
   * running jobs keep their lease, for at least lease_ms from now, so a live agent can
   * still report (and renew it by heartbeat), except those their agent's first report does
   * not list (under this leader's epoch in HA mode), re-queued at once (node-events.ts:
   * recovered); blocklists are rebuilt from the failure counters.
   */
  async start(): Promise<void> {
    if (this.ctx.started) return;
    for (const f of await this.ctx.store.nodeFailures()) {
      if (f.count >= this.ctx.cfg.blocklist_threshold) this.ctx.registry.block(f.node_id, f.type, blockReason(f.count, f.type, f.last_reason));
    }
    for (const j of await this.ctx.store.pending()) this.ctx.pending.add(queued(j));
    const running = await this.ctx.store.running();
    for (const j of running) {
      const l = leaseEntry(j, null);
      if (!l) continue;
      this.ctx.leases.set(l);
      reserveSlot(this.ctx, l.node_id, j, null);
      this.nodeEvents.recovered(l);
    }
    this.ctx.started = true;
    await this.parents.recover(running);
    await this.characters.recover(running);
    await this.chains.recover(running);
    this.dispatch.start();
    this.sweepTimer = setInterval(() => void this.sweep(), this.ctx.cfg.sweep_interval_ms);
    this.sweepTimer.unref();
    this.ctx.log.info("coordinator started", { pending: this.ctx.pending.size, running: this.ctx.leases.size });
    this.ctx.kick();
  }

  /** Stop timers and wait for the dispatch loop to settle. The store is not closed (its owner closes it). */
  async stop(): Promise<void> {
    this.ctx.started = false;
    clearInterval(this.sweepTimer);
    for (const t of this.ctx.delayed.values()) clearTimeout(t);
    this.ctx.delayed.clear();
    await this.dispatch.stop();
  }

  /** Resolves once no dispatch round is running or scheduled (tests, orderly shutdown). */
  idle(): Promise<void> {
    return this.dispatch.idle();
  }

  // --- jobs ---------------------------------------------------------------------

  /**
   * Persist a new job and trigger dispatch (job-intake.ts). Same idempotency key -> the
   * existing job. If no live node could ever run it, throws CAPABILITY_UNAVAILABLE (503)
   * naming the missing capability, with per-node reasons in `details.reasons`; nothing is stored.
   */
  submit(input: SubmitJobInput): Promise<JobRecord> {
    return this.intake.submit(input);
  }

  async get(id: string): Promise<JobRecord> {
    const job = await this.ctx.store.get(checkId(id));
    if (!job) throw notFound("job", id);
    return job;
  }

  /**
   * Jobs newest first; filter {status?, type?, owner?, limit (1-1000, default 50), offset}.
   * `owner`: a name lists exactly that owner's jobs, null the jobs without an owner.
   */
  async list(filter: { status?: JobStatus; type?: string; owner?: string | null; limit?: number; offset?: number } = {}): Promise<JobListPage> {
    return this.ctx.store.list(checkListFilter(filter));
  }

  /**
   * Pending -> cancelled at once. Running -> `cancel_requested`, the agent is told, and the
   * job becomes cancelled when the agent reports back or its lease expires. Terminal ->
   * CONFLICT. Returns the job as it stands.
   */
  async cancel(id: string): Promise<JobRecord> {
    for (let tries = 0; tries < 3; tries++) {
      const job = await this.get(id);
      if (job.children && job.status === "running") return this.parents.cancel(job);
      if (job.type === CHARACTER_JOB_TYPE && job.status === "running") return this.characters.cancel(job);
      if (job.steps && job.status === "running") return this.chains.cancel(job);
      const now = this.ctx.clock.now();
      if (job.status === "pending") {
        const rec = await moveJob(
          this.ctx.store,
          id,
          "pending",
          "cancelled",
          {
            finished_at: now,
            updated_at: now,
            error: { code: "JOB_CANCELLED", message: "cancelled before it started" },
          },
          { history: { at: now, event: "cancelled", reason: "cancelled by request while pending" } },
        );
        if (!rec) continue; // it was dispatched meanwhile: go again as running
        this.ctx.pending.remove(id);
        clearTimeout(this.ctx.delayed.get(id));
        this.ctx.delayed.delete(id);
        this.ctx.decisions.forget(id);
        this.publishEnd(rec, now);
        return rec;
      }
      if (job.status === "running") {
        const l = job.lease ? this.ctx.leases.current(id, job.lease.token) : undefined;
        if (!l || !job.lease) continue;
        if (l.cancel_requested) return job;
        const rec = await updateJob(
          this.ctx.store,
          id,
          "running",
          { cancel_requested: true, updated_at: now },
          {
            leaseToken: l.token,
            history: { at: now, event: "cancel_requested", node_id: l.node_id },
          },
        );
        if (!rec) continue;
        l.cancel_requested = true;
        this.ctx.dispatcher.cancelTask(l.node_id, id, l.token).catch((err: unknown) => {
          this.ctx.log.warn("cancel not delivered; the lease expiry will finish it", { job_id: id, node_id: l.node_id, error: toFarmError(err).message });
        });
        return rec;
      }
      assertTransition(job.status, "cancelled", id);
    }
    throw new FarmError("CONFLICT", `job '${id}' changed state while being cancelled; try again`, { field: "job_id", constraint: "stable" });
  }

  /** Why a job is where it is: the last placement decision with per-node reasons, and its history. */
  async why(id: string): Promise<WhyReport> {
    const job = await this.get(id);
    const out: WhyReport = {
      job_id: job.id,
      type: job.type,
      status: job.status,
      requirements: job.requirements,
      attempts: job.attempts,
      max_attempts: job.max_attempts,
      failed_on: job.failed_on ?? [],
      decision: await this.ctx.decisions.latest(id),
      history: job.history,
    };
    if (job.node_id !== undefined) out.node_id = job.node_id;
    if (job.status === "pending") out.current = schedule(queued(job), this.ctx.registry.views(), { maxReasons: MAX_WHY_REASONS, now: this.ctx.clock.now() });
    return out;
  }
  // --- nodes (node-events.ts) -------------------------------------------------------

  nodeHeartbeat(r: HeartbeatReport): Promise<HeartbeatAnswer> {
    return this.nodeEvents.heartbeat(r);
  }

  nodeSuspect(nodeId: string, reason?: string): void {
    this.nodeEvents.suspect(nodeId, reason);
  }

  nodeLost(nodeId: string, reason?: string): Promise<void> {
    return this.nodeEvents.lost(nodeId, reason);
  }

  drain(nodeId: string): NodeStatus {
    return this.nodeEvents.drain(nodeId);
  }

  undrain(nodeId: string): NodeStatus {
    return this.nodeEvents.undrain(nodeId);
  }

  unblock(nodeId: string, type?: string): Promise<void> {
    return this.nodeEvents.unblock(nodeId, type);
  }

  nodes(): NodeStatus[] {
    return this.nodeEvents.nodes();
  }

  /** Drop, cancel and report the queued and running jobs the store lost (coordinator/reconcile.ts). */
  reconcile(): Promise<ReconcileReport> {
    return reconcileLostJobs(this.ctx);
  }

  async status(): Promise<FarmStatus> {
    const running = this.ctx.leases.all().map((l) => ({
      job_id: l.job_id,
      type: l.type,
      node_id: l.node_id,
      gpu_index: l.gpu_index,
      token: l.token,
      expires_at: l.expires_at,
      attempts: l.attempts,
      cancel_requested: l.cancel_requested,
    }));
    return { nodes: this.nodes(), running, queue: this.ctx.pending.depthByType(), counts: await this.ctx.store.counts() };
  }

  // --- agent reports (outcome-handler.ts) ---------------------------------------------

  reportProgress(r: ProgressReport): Promise<void> {
    return this.outcomes.reportProgress(r);
  }

  reportCompleted(r: CompletedReport): Promise<void> {
    return this.outcomes.reportCompleted(r);
  }

  reportFailed(r: FailedReport): Promise<void> {
    return this.outcomes.reportFailed(r);
  }

  /** Expire leases and purge old finished jobs (outcome-handler.ts). Runs on the sweep timer; public so tests can drive it. */
  sweep(): Promise<void> {
    return this.outcomes.sweep();
  }

  // --- internals ----------------------------------------------------------------------

  /** One event per ending: `completed` or `error` (which carries failed/cancelled); a separate status event would double the mesh traffic of the hot path. */
  private publishEnd(rec: JobRecord, at: number): void {
    if (rec.parent) {
      if (this.characters.isStep(rec)) this.characters.stepEnded(rec);
      else if (this.chains.isStep(rec)) this.chains.stepEnded(rec);
      else this.parents.childEnded(rec);
    }
    if (rec.status === "completed") this.publish({ type: "completed", job_id: rec.id, result: rec.result ?? {}, at });
    else if (rec.status === "failed" || rec.status === "cancelled") {
      this.publish({ type: "error", job_id: rec.id, error: rec.error ?? { code: "JOB_FAILED", message: "job failed" }, status: rec.status, at });
    }
  }

  private publish(e: JobEvent): void {
    try {
      this.publishFn(e);
    } catch (err) {
      this.ctx.log.warn("event publish failed", { job_id: e.job_id, error: toFarmError(err).message });
    }
  }
}
