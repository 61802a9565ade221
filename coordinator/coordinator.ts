/**
 * The Coordinator: the farm's job brain, independent of any transport. The Moleculer
 * service wraps these methods one to one; tests drive them with a fake Dispatcher and a
 * ManualClock.
 *
 * Hot path (submit -> dispatch -> complete): two store writes per job when a node is free
 * at submit (created running, complete), three when it queued first (create, grant,
 * complete), and no O(queue) work: pending jobs live in an in-memory index grouped by
 * requirement class and only class heads are tried.
 * The store stays the source of truth: every status change is a compare-and-set there,
 * guarded by the lease's fencing token, so a late or duplicate report never wins.
 */
import type { Clock } from "../core/clock.ts";
import { FarmError, notFound, toFarmError, type ErrorCode, type SerializedError } from "../core/errors.ts";
import type { JobEvent, JobRecord, JobRequirements, JobStatus, SubmitJobInput } from "../core/job.ts";
import type { Logger } from "../core/logger.ts";
import { retryDelayMs } from "./retry-backoff.ts";
import type { DispatchTask, Dispatcher } from "../core/mesh-contract.ts";
import { CoalescedRunner } from "./coalesced-runner.ts";
import type { CompletedReport, CoordinatorDeps, FailedReport, FarmStatus, HeartbeatAnswer, HeartbeatReport, ProgressReport, WhyReport } from "./coordinator-types.ts";
import type { JobListPage, JobStore } from "./job-store.ts";
import { LeaseTable, type LeaseEntry } from "./lease-table.ts";
import { NodeRegistry, type NodeStatus } from "./node-registry.ts";
import { blockReason, NOT_NODE_FAULT, outcomeWrite, queued, type Outcome } from "./outcome.ts";
import { DecisionLog } from "./decision-log.ts";
import { PendingIndex, requirementClass, type QueuedJob } from "./pending-index.ts";
import { ParamCheck } from "./param-check.ts";
import { checkChildren, childId, ParentJobs } from "./parent-jobs.ts";
import { CHARACTER_JOB_TYPE, CharacterFlows, checkCharacterParams, generationParams } from "./character-flow.ts";
import { defaultRequirementsFor, type RequirementsFor } from "./requirements.ts";
import { schedule, type Placement } from "./scheduler.ts";
import { assertTransition } from "./state-machine.ts";
import { capabilityError, grantedAtSubmit, grantWrite, newJobRecord } from "./submission.ts";
import { checkId, checkListFilter, checkProgress, checkReport, checkSubmit, checkToken } from "./validate.ts";

export type { CompletedReport, CoordinatorDeps, FailedReport, FarmStatus, HeartbeatAnswer, HeartbeatReport, ProgressReport, RunningJobView, WhyReport } from "./coordinator-types.ts";
export type { NodeStatus } from "./node-registry.ts";

/** How many per-node reasons a stored decision keeps (farms can have thousands of nodes). */
const MAX_STORED_REASONS = 50;
/** How many per-node reasons why() computes live. */
const MAX_WHY_REASONS = 500;
/** How often the sweep purges finished jobs past job_retention_h. */
const PURGE_EVERY_MS = 3_600_000;
/** Back-off before retrying the dispatch loop after a store failure. */
const RETRY_AFTER_STORE_ERROR_MS = 1000;

export class Coordinator {
  private readonly store: JobStore;
  private readonly clock: Clock;
  private readonly cfg: CoordinatorDeps["config"];
  private readonly dispatcher: Dispatcher;
  private readonly log: Logger;
  private readonly publishFn: CoordinatorDeps["publish"];
  private readonly requirementsFor: RequirementsFor;
  private readonly pending = new PendingIndex();
  private readonly leases = new LeaseTable();
  private readonly registry = new NodeRegistry();
  private readonly paramCheck: ParamCheck;
  /** requirement class -> capability version at which it was last found possible. */
  private readonly possible = new Map<string, number>();
  private readonly decisions: DecisionLog;
  private readonly dispatcherLoop: CoalescedRunner;
  /** Batches: parent jobs that end when their children have (parent-jobs.ts). */
  private readonly parents: ParentJobs;
  /** image.character: generate, check the face, regenerate (character-flow.ts). */
  private readonly characters: CharacterFlows;
  private started = false;
  /** Jobs waiting out a retry backoff before they rejoin `pending` (job id -> timer). */
  private readonly delayed = new Map<string, NodeJS.Timeout>();
  private sweeping = false;
  private sweepTimer: NodeJS.Timeout | undefined;
  private lastPurge = 0;

  constructor(deps: CoordinatorDeps) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.cfg = deps.config;
    this.dispatcher = deps.dispatcher;
    this.log = deps.logger.child({ role: "coordinator" });
    this.publishFn = deps.publish;
    this.requirementsFor = deps.requirementsFor ?? defaultRequirementsFor;
    this.decisions = new DecisionLog(this.store, this.clock, this.log);
    this.paramCheck = new ParamCheck(this.log);
    this.dispatcherLoop = new CoalescedRunner(
      () => this.dispatchRound(),
      (err) => this.log.error("dispatch round failed; retrying shortly", { error: toFarmError(err).message }),
      RETRY_AFTER_STORE_ERROR_MS,
    );
    this.parents = new ParentJobs({
      store: this.store, clock: this.clock, log: this.log,
      submitChild: (parent, index) => this.submitChild(parent, index),
      cancelChild: async (id) => void (await this.cancel(id)),
      publish: (e) => this.publish(e),
      publishEnd: (rec) => this.publishEnd(rec, this.clock.now()),
    });
    this.characters = new CharacterFlows({
      store: this.store, clock: this.clock, log: this.log,
      submitStep: (parent, id, type, params) => this.createChild(parent, id, Number(/(\d+)$/.exec(id)?.[1] ?? 0), type, params),
      cancelChild: async (id) => void (await this.cancel(id)),
      publish: (e) => this.publish(e),
      publishEnd: (rec) => this.publishEnd(rec, this.clock.now()),
    }, deps.seed);
  }

  // --- lifecycle ---------------------------------------------------------------

  /**
   * Recover from the store and start the lease sweep. Pending jobs are queued again;
   * running jobs keep their lease until it expires, so a live agent can still report
   * (and renew it by heartbeat); blocklists are rebuilt from the failure counters.
   */
  async start(): Promise<void> {
    if (this.started) return;
    for (const f of await this.store.nodeFailures()) {
      if (f.count >= this.cfg.blocklist_threshold) this.registry.block(f.node_id, f.type, blockReason(f.count, f.type, f.last_reason));
    }
    for (const j of await this.store.pending()) this.pending.add(queued(j));
    const running = await this.store.running();
    for (const j of running) {
      const l = LeaseTable.fromRecord(j);
      if (!l) continue;
      this.leases.set(l);
      this.registry.addJob(l.node_id, l.job_id, null, l.requirements.model);
    }
    this.started = true;
    await this.parents.recover(running);
    await this.characters.recover(running);
    this.dispatcherLoop.start();
    this.sweepTimer = setInterval(() => void this.sweep(), this.cfg.sweep_interval_ms);
    this.sweepTimer.unref();
    this.log.info("coordinator started", { pending: this.pending.size, running: this.leases.size });
    this.kick();
  }

  /** Stop timers and wait for the dispatch loop to settle. The store is not closed (its owner closes it). */
  async stop(): Promise<void> {
    this.started = false;
    clearInterval(this.sweepTimer);
    for (const t of this.delayed.values()) clearTimeout(t);
    this.delayed.clear();
    await this.dispatcherLoop.stop();
  }

  /** Resolves once no dispatch round is running or scheduled (tests, orderly shutdown). */
  idle(): Promise<void> {
    return this.dispatcherLoop.idle();
  }

  // --- jobs ---------------------------------------------------------------------

  /**
   * Persist a new pending job and trigger dispatch. Same idempotency key -> the existing
   * job. If no live node could ever run it, throws CAPABILITY_UNAVAILABLE (503) naming
   * the missing capability, with per-node reasons in `details.reasons`; nothing is stored.
   */
  async submit(input: SubmitJobInput): Promise<JobRecord> {
    const inp = checkSubmit(input);
    if (inp.idempotency_key !== undefined) {
      const existing = await this.store.findByIdempotencyKey(inp.idempotency_key);
      if (existing) return existing;
    }
    if (input.children !== undefined) return this.submitParent(inp, checkChildren(input.children));
    if (inp.type === CHARACTER_JOB_TYPE) return this.submitCharacter(inp);
    const requirements = this.possibleRequirements(inp.type, inp.params);
    const now = this.clock.now();
    return this.createJob(newJobRecord(inp, requirements, now, this.cfg.max_attempts), now);
  }

  /**
   * The job's requirements; CAPABILITY_UNAVAILABLE when no live node could ever run it,
   * VALIDATION_ERROR when its params break the schema its plugin declares (param-check.ts).
   */
  private possibleRequirements(type: string, params: Record<string, unknown>): JobRequirements {
    const requirements = this.requirementsFor(type, params, this.registry.reports());
    const cls = requirementClass({ type, requirements });
    if (this.possible.get(cls) !== this.registry.capabilityVersion) {
      const d = schedule({ type, requirements }, this.registry.views(), { maxReasons: MAX_STORED_REASONS });
      if (d.verdict === "impossible") throw capabilityError(d, type, requirements);
      this.possible.set(cls, this.registry.capabilityVersion);
    }
    this.paramCheck.check(type, params, () => this.registry.reports(), this.registry.capabilityVersion);
    return requirements;
  }

  /**
   * A parent job: every item is checked first (one impossible item -> 503 and nothing is
   * stored), then the parent is stored and its children created (parent-jobs.ts).
   */
  private async submitParent(inp: ReturnType<typeof checkSubmit>, children: ReturnType<typeof checkChildren>): Promise<JobRecord> {
    for (const item of children.items) {
      if (children.type === CHARACTER_JOB_TYPE) this.characterPossible(checkCharacterParams(item));
      else this.possibleRequirements(children.type, item);
    }
    const now = this.clock.now();
    const rec: JobRecord = { ...newJobRecord(inp, {}, now, 1), status: "running", started_at: now, children };
    return this.parents.create(rec);
  }

  /**
   * image.character (character-flow.ts): every step must be possible now (generation on a
   * node that advertises the model's face-reference variant, face.embed with the
   * character's face model), else 503 naming what is missing and nothing is stored.
   */
  private async submitCharacter(inp: ReturnType<typeof checkSubmit>): Promise<JobRecord> {
    this.characterPossible(checkCharacterParams(inp.params));
    const now = this.clock.now();
    return this.characters.create({ ...newJobRecord(inp, {}, now, 1), status: "running", started_at: now });
  }

  private characterPossible(p: ReturnType<typeof checkCharacterParams>): void {
    const gen = generationParams(p, 0);
    const model = typeof gen.model === "string" ? gen.model : undefined;
    const variant = `${model ?? "(default model)"}:face_ref`;
    if (!model || !this.registry.reports().some((r) => (r.models["image.generate"] ?? []).includes(variant))) {
      throw new FarmError("CAPABILITY_UNAVAILABLE", `character_id needs a face-reference workflow: no live node offers '${variant}' (ComfyUI with IP-Adapter FaceID, InstantID or PuLID nodes and weights)`, {
        field: "model", constraint: "face_ref", job_type: "image.generate", model: variant,
      });
    }
    this.possibleRequirements("image.generate", gen);
    this.possibleRequirements("face.embed", { model: p.character.model });
  }

  /** Child `index` of a parent: id `<parent>-<index>`, the parent's owner and priority. */
  private async submitChild(parent: JobRecord, index: number): Promise<JobRecord> {
    const children = parent.children!;
    return this.createChild(parent, childId(parent.id, index), index, children.type, children.items[index]!);
  }

  private async createChild(parent: JobRecord, id: string, index: number, type: string, params: Record<string, unknown>): Promise<JobRecord> {
    const now = this.clock.now();
    if (type === CHARACTER_JOB_TYPE) {
      // A batch item with a character_id is itself a (nested) image.character parent.
      const owner = parent.owner !== undefined ? { owner: parent.owner } : {};
      const rec = newJobRecord({ type, params, priority: parent.priority, ...owner }, {}, now, 1);
      return this.characters.create({ ...rec, id, parent: { id: parent.id, index }, status: "running", started_at: now });
    }
    const base = newJobRecord({ type, params, priority: parent.priority, ...(parent.owner !== undefined ? { owner: parent.owner } : {}) },
      this.requirementsFor(type, params, this.registry.reports()), now, this.cfg.max_attempts);
    return this.createJob({ ...base, id, parent: { id: parent.id, index } }, now);
  }

  /** Store a new job record: placed at once when a node is free and nothing waits, else queued. */
  private async createJob(rec: JobRecord, now: number): Promise<JobRecord> {
    const fast = this.placeAtSubmit(rec);
    if (fast) return this.createGranted(rec, fast, now);
    const { job, created } = await this.store.create(rec);
    if (created) {
      this.pending.add(queued(job));
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
    if (!this.started || this.pending.size > 0 || rec.idempotency_key !== undefined) return null;
    const views = this.registry.views();
    if (views.length === 0) return null;
    const d = schedule(rec, views, { maxReasons: MAX_STORED_REASONS });
    return d.verdict === "placed" && d.node_id !== undefined ? d : null;
  }

  private async createGranted(rec: JobRecord, d: Placement, now: number): Promise<JobRecord> {
    const nodeId = d.node_id!;
    const running = grantedAtSubmit(rec, d, now, this.cfg.lease_ms);
    this.registry.addJob(nodeId, rec.id, d.gpu_index, rec.requirements.model); // reserved before the write, as in grant()
    // The store write and the dispatch go out together instead of one after the other (a
    // store round trip less before the job starts). Safe because every later write about
    // this job (progress, completion) goes to the store after this one on the same
    // connection, so the store applies them in order; and if the write fails, the agent
    // is told to stop and its lease is dropped here, so its reports are refused as stale.
    const created = this.store.create(running);
    this.startGranted(running, d, now);
    let out: { job: JobRecord; created: boolean };
    try {
      out = await created;
      if (!out.created) throw new FarmError("CONFLICT", `job ${rec.id} already exists`); // cannot happen without an idempotency key
    } catch (err) {
      this.revokeAtSubmit(rec.id, nodeId);
      throw err;
    }
    return out.job;
  }

  private revokeAtSubmit(jobId: string, nodeId: string): void {
    if (!this.leases.delete(jobId, 1)) return;
    this.registry.removeJob(nodeId, jobId);
    this.dispatcher.cancelTask(nodeId, jobId, 1).catch(() => {}); // best effort: its reports are refused anyway
  }

  async get(id: string): Promise<JobRecord> {
    const job = await this.store.get(checkId(id));
    if (!job) throw notFound("job", id);
    return job;
  }

  /**
   * Jobs newest first; filter {status?, type?, owner?, limit (1-1000, default 50), offset}.
   * `owner`: a name lists exactly that owner's jobs, null the jobs without an owner.
   */
  async list(filter: { status?: JobStatus; type?: string; owner?: string | null; limit?: number; offset?: number } = {}): Promise<JobListPage> {
    return this.store.list(checkListFilter(filter));
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
      const now = this.clock.now();
      if (job.status === "pending") {
        const rec = await this.store.transition(id, ["pending"], {
          status: "cancelled", finished_at: now, updated_at: now, error: { code: "JOB_CANCELLED", message: "cancelled before it started" },
        }, { history: { at: now, event: "cancelled", reason: "cancelled by request while pending" } });
        if (!rec) continue; // it was dispatched meanwhile: go again as running
        this.pending.remove(id);
        clearTimeout(this.delayed.get(id));
        this.delayed.delete(id);
        this.decisions.forget(id);
        this.publishEnd(rec, now);
        return rec;
      }
      if (job.status === "running") {
        const l = job.lease ? this.leases.current(id, job.lease.token) : undefined;
        if (!l || !job.lease) continue;
        if (l.cancel_requested) return job;
        const rec = await this.store.transition(id, ["running"], { cancel_requested: true, updated_at: now }, {
          leaseToken: l.token, history: { at: now, event: "cancel_requested", node_id: l.node_id },
        });
        if (!rec) continue;
        l.cancel_requested = true;
        this.dispatcher.cancelTask(l.node_id, id, l.token).catch((err: unknown) => {
          this.log.warn("cancel not delivered; the lease expiry will finish it", { job_id: id, node_id: l.node_id, error: toFarmError(err).message });
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
      job_id: job.id, type: job.type, status: job.status, requirements: job.requirements, attempts: job.attempts,
      max_attempts: job.max_attempts, failed_on: job.failed_on ?? [], decision: await this.decisions.latest(id), history: job.history,
    };
    if (job.node_id !== undefined) out.node_id = job.node_id;
    if (job.status === "pending") out.current = schedule(queued(job), this.registry.views(), { maxReasons: MAX_WHY_REASONS });
    return out;
  }

  // --- nodes ----------------------------------------------------------------------

  /**
   * Register or update a node; renews the leases it lists whose tokens are current. Answers
   * with the leases it lists that are no longer its own (the job was re-queued or ended
   * while the node was silent), so the agent drops that work instead of finishing a copy
   * whose result would be refused. Before recovery (start) nothing is called stale.
   */
  async nodeHeartbeat(r: HeartbeatReport): Promise<HeartbeatAnswer> {
    checkReport(r);
    const now = this.clock.now();
    const { leases, ...report } = r;
    this.registry.upsert(report, now);
    const renewals: Promise<boolean>[] = [];
    const stale: HeartbeatAnswer["stale"] = [];
    for (const held of leases ?? []) {
      const l = this.leases.current(held.job_id, held.token);
      if (!l || l.node_id !== r.node_id) {
        if (this.started) stale.push({ job_id: held.job_id, token: held.token });
        continue;
      }
      l.expires_at = now + this.cfg.lease_ms;
      if (l.expires_at - l.persisted_expires_at > this.cfg.lease_ms / 2) {
        l.persisted_expires_at = l.expires_at;
        renewals.push(this.store.renewLease(l.job_id, l.token, l.expires_at));
      }
    }
    await Promise.all(renewals);
    if (this.pending.size > 0) this.kick();
    return { stale };
  }

  /**
   * A node went silent but may well be alive (stalled, or the mesh itself blipped): no new
   * work goes to it, and its jobs stay leased to it. When it comes back its next heartbeat
   * renews them; when it does not, the sweep re-queues them as their leases expire. Its
   * slot bookkeeping survives (the registry keeps jobs apart from node entries).
   */
  nodeSuspect(nodeId: string, reason?: string): void {
    checkId(nodeId, "node_id");
    if (!this.registry.remove(nodeId)) return;
    this.log.warn("node silent; its jobs keep their leases until they expire", { node_id: nodeId, reason, jobs: this.leases.onNode(nodeId).length });
  }

  /** A node is known to be gone (it left, or its process died): forget it and re-queue its running jobs now. */
  async nodeLost(nodeId: string, reason?: string): Promise<void> {
    checkId(nodeId, "node_id");
    this.registry.remove(nodeId);
    const why = `node ${nodeId} was lost${reason ? ` (${reason})` : ""}`;
    for (const l of this.leases.onNode(nodeId)) await this.leaseLost(l, why, "NODE_LOST", false);
    this.log.warn("node lost", { node_id: nodeId, reason });
  }

  /** No new work for this node (running jobs finish). NOT_FOUND for an unknown node. */
  drain(nodeId: string): NodeStatus {
    const e = this.registry.get(checkId(nodeId, "node_id"));
    if (!e) throw notFound("node", nodeId);
    this.registry.setDrain(nodeId, true);
    return this.registry.status(e);
  }

  undrain(nodeId: string): NodeStatus {
    const e = this.registry.get(checkId(nodeId, "node_id"));
    if (!e) throw notFound("node", nodeId);
    this.registry.setDrain(nodeId, false);
    this.kick();
    return this.registry.status(e);
  }

  /** Lift a node's blocklist (one type or all) and reset its failure counters. */
  async unblock(nodeId: string, type?: string): Promise<void> {
    checkId(nodeId, "node_id");
    await this.store.clearNodeFailures(nodeId, type);
    this.registry.unblock(nodeId, type);
    this.kick();
  }

  nodes(): NodeStatus[] {
    return this.registry.views().map((e) => this.registry.status(e));
  }

  async status(): Promise<FarmStatus> {
    const running = this.leases.all().map((l) => ({
      job_id: l.job_id, type: l.type, node_id: l.node_id, gpu_index: l.gpu_index, token: l.token,
      expires_at: l.expires_at, attempts: l.attempts, cancel_requested: l.cancel_requested,
    }));
    return { nodes: this.nodes(), running, queue: this.pending.depthByType(), counts: await this.store.counts() };
  }

  // --- agent reports ---------------------------------------------------------------

  async reportProgress(r: ProgressReport): Promise<void> {
    const id = checkId(r.job_id);
    const token = checkToken(r.token);
    const progress = checkProgress(r.progress);
    const message = typeof r.message === "string" ? r.message : undefined;
    const l = this.leases.current(id, token);
    const now = this.clock.now();
    if (!l || !(await this.store.updateProgress(id, token, progress, message, now))) throw this.stale(r.node_id, id, token);
    l.expires_at = Math.max(l.expires_at, now + this.cfg.lease_ms); // a job that reports is alive
    this.publish(message === undefined ? { type: "progress", job_id: id, progress, at: now } : { type: "progress", job_id: id, progress, message, at: now });
  }

  async reportCompleted(r: CompletedReport): Promise<void> {
    const l = this.leases.current(checkId(r.job_id), checkToken(r.token));
    if (!l) throw this.stale(r.node_id, r.job_id, r.token);
    const result = r.result && typeof r.result === "object" ? r.result : {};
    const done = l.cancel_requested
      ? await this.finish(l, { kind: "cancelled", reason: `cancelled by request (node ${l.node_id} finished anyway; result discarded)` })
      : await this.finish(l, { kind: "completed", result });
    if (!done) throw this.stale(r.node_id, r.job_id, r.token);
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
    const l = this.leases.current(checkId(r.job_id), checkToken(r.token));
    if (!l) throw this.stale(r.node_id, r.job_id, r.token);
    const err: SerializedError = r.error && typeof r.error.message === "string" ? toFarmError(r.error).toJSON() : { code: "INTERNAL_ERROR", message: "agent reported a failure without an error" };
    const what = `${err.code}: ${err.message}`;
    let outcome: Outcome;
    if (l.cancel_requested || err.code === "JOB_CANCELLED") {
      outcome = { kind: "cancelled", reason: l.cancel_requested ? "cancelled by request" : `cancelled on node ${l.node_id}: ${err.message}` };
    } else if (err.code === "NODE_LOST" && r.retryable === true) {
      outcome = { kind: "requeue", reason: `handed back by node ${l.node_id}: ${err.message}`, avoidNode: true, restoreAttempt: true };
    } else {
      if (!NOT_NODE_FAULT.has(err.code)) await this.countFailure(l.node_id, l.type, what);
      const delayMs = retryDelayMs(l.attempts, this.cfg);
      outcome = r.retryable === true && l.attempts < l.max_attempts
        ? { kind: "requeue", reason: `${what} on node ${l.node_id} (attempt ${l.attempts}/${l.max_attempts}); retrying${delayMs > 0 ? ` in ${(delayMs / 1000).toFixed(1)} s` : ""}`, avoidNode: true, delayMs }
        : { kind: "failed", error: r.retryable === true ? { ...err, message: `${err.message} (gave up after ${l.attempts} attempts; last on node ${l.node_id})` } : err, reason: `${what} on node ${l.node_id}` };
    }
    if (!(await this.finish(l, outcome))) throw this.stale(r.node_id, r.job_id, r.token);
  }

  /**
   * Expire leases whose time is up, and (hourly, when job_retention_h > 0) purge old
   * finished jobs. Runs on the sweep timer; public so tests can drive it.
   */
  async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const now = this.clock.now();
      for (const l of this.leases.expired(now)) {
        await this.leaseLost(l, `lease expired on node ${l.node_id}`, "TIMEOUT", true);
      }
      const retentionMs = (this.cfg.job_retention_h ?? 0) * 3_600_000;
      if (retentionMs > 0 && now - this.lastPurge >= PURGE_EVERY_MS) {
        this.lastPurge = now;
        const n = await this.store.purge(now - retentionMs);
        if (n > 0) this.log.info("purged finished jobs past retention", { count: n, job_retention_h: this.cfg.job_retention_h });
      }
    } catch (err) {
      this.log.error("lease sweep failed", { error: toFarmError(err).message });
    } finally {
      this.sweeping = false;
    }
  }

  // --- internals: dispatch ------------------------------------------------------------

  /** Ask for a dispatch round soon; many triggers in one tick coalesce into one round. */
  private kick(): void {
    this.dispatcherLoop.kick();
  }

  /**
   * Place pending jobs in priority order, trying only the head of each requirement class.
   * Grants are not awaited one by one: each reserves its slot in the registry before its
   * store write, so the next decision already sees it, and the round's store writes go out
   * together (one Redis round trip for a whole round instead of one per job).
   */
  private async dispatchRound(): Promise<void> {
    const skip = new Set<string>();
    const grants: Promise<void>[] = [];
    for (;;) {
      const views = this.registry.views();
      if (views.length === 0) break;
      const next = this.pending.next(skip);
      if (!next) break;
      const d = schedule(next.job, views, { maxReasons: MAX_STORED_REASONS });
      if (d.verdict !== "placed" || d.node_id === undefined) {
        skip.add(next.key);
        this.decisions.waiting(next.job.id, d);
        continue;
      }
      this.pending.remove(next.job.id);
      grants.push(this.grant(next.job, d));
    }
    const failed = (await Promise.allSettled(grants)).find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  }

  /** Grant `job` to the placement's node: reserve the slot, one CAS in the store, then dispatch. Rejects only on a store failure (the job is then pending again). */
  private async grant(job: QueuedJob, d: Placement): Promise<void> {
    const nodeId = d.node_id!;
    if (!this.registry.get(nodeId)) {
      this.pending.add(job); // the node left while the round ran; the next try sees it gone
      return;
    }
    const now = this.clock.now();
    // Reserved before the store write (synchronously), so decisions taken meanwhile count it.
    this.registry.addJob(nodeId, job.id, d.gpu_index, job.requirements.model);
    const { patch, history } = grantWrite(d, now);
    let rec: JobRecord | null;
    try {
      rec = await this.store.transition(job.id, ["pending"], patch, { grantLease: { node_id: nodeId, expires_at: now + this.cfg.lease_ms }, unset: ["message"], history });
    } catch (err) {
      this.registry.removeJob(nodeId, job.id);
      this.pending.add(job); // still pending in the store
      throw err;
    }
    if (!rec || !rec.lease) { // cancelled meanwhile
      this.registry.removeJob(nodeId, job.id);
      return;
    }
    this.startGranted(rec, d, now);
  }

  /** A job just granted in the store (slot already reserved): track its lease, tell watchers, send it to the node. */
  private startGranted(rec: JobRecord, d: Placement, now: number): void {
    const nodeId = d.node_id!;
    if (!rec.lease) return;
    const l: LeaseEntry = {
      job_id: rec.id, type: rec.type, node_id: nodeId, token: rec.lease.token, expires_at: rec.lease.expires_at,
      persisted_expires_at: rec.lease.expires_at, gpu_index: d.gpu_index, requirements: rec.requirements, attempts: rec.attempts,
      max_attempts: rec.max_attempts, failed_on: rec.failed_on ?? [], priority: rec.priority, created_at: rec.created_at, cancel_requested: false,
    };
    this.leases.set(l);
    this.publish({ type: "status", job_id: rec.id, status: "running", at: now });
    this.decisions.placedAt(rec.id, d, now);
    const task: DispatchTask = { job_id: rec.id, type: rec.type, params: rec.params, gpu_index: d.gpu_index, attempt: rec.attempts, token: l.token, lease_ms: this.cfg.lease_ms };
    if (rec.requirements.model !== undefined) task.model = rec.requirements.model;
    this.dispatcher.startTask(nodeId, task).catch((err: unknown) => void this.dispatchFailed(l, err));
  }

  /** The agent refused or was unreachable: hand the job back (the attempt does not count) and skip the node until its next heartbeat. */
  private async dispatchFailed(l: LeaseEntry, err: unknown): Promise<void> {
    const msg = toFarmError(err).message;
    const e = this.registry.get(l.node_id);
    if (e) e.unavailable = `refused or unreachable at dispatch (${msg}); retried after its next heartbeat`;
    this.log.warn("dispatch failed; job re-queued", { job_id: l.job_id, node_id: l.node_id, error: msg });
    if (this.leases.current(l.job_id, l.token)) {
      await this.finish(l, { kind: "requeue", reason: `dispatch to node ${l.node_id} failed: ${msg}`, avoidNode: false, restoreAttempt: true }).catch((e2: unknown) => {
        this.log.error("could not re-queue after failed dispatch; the lease expiry will", { job_id: l.job_id, error: toFarmError(e2).message });
      });
    }
  }

  // --- internals: outcomes -------------------------------------------------------------

  private async leaseLost(l: LeaseEntry, why: string, code: ErrorCode, countsAgainstNode: boolean): Promise<void> {
    let outcome: Outcome;
    if (l.cancel_requested) outcome = { kind: "cancelled", reason: `cancelled by request (${why})` };
    else {
      if (countsAgainstNode) await this.countFailure(l.node_id, l.type, why);
      outcome = l.attempts < l.max_attempts
        ? { kind: "requeue", reason: `${why} (attempt ${l.attempts}/${l.max_attempts}); re-queued`, avoidNode: true }
        : { kind: "failed", error: { code, message: `${why} after ${l.attempts} attempts` }, reason: `${why} after ${l.attempts} attempts` };
    }
    await this.finish(l, outcome);
  }

  /**
   * Apply an outcome to a running job: one CAS in the store guarded by the lease token,
   * then the in-memory bookkeeping and events. Returns null when the token was stale.
   */
  private async finish(l: LeaseEntry, o: Outcome): Promise<JobRecord | null> {
    // Claim the lease in memory first so a concurrent report/sweep sees it gone at once.
    if (!this.leases.delete(l.job_id, l.token)) return null;
    const now = this.clock.now();
    const { patch, unset, history } = outcomeWrite(l, o, now);
    let rec: JobRecord | null;
    try {
      rec = await this.store.transition(l.job_id, ["running"], patch, { leaseToken: l.token, unset, history });
    } catch (err) {
      this.leases.set(l); // nothing changed in the store: keep tracking the lease
      throw err;
    }
    this.registry.removeJob(l.node_id, l.job_id);
    if (!rec) return null;
    if (rec.status === "pending") {
      const delayMs = o.kind === "requeue" ? o.delayMs ?? 0 : 0;
      if (delayMs > 0) this.requeueLater(rec, delayMs);
      else this.pending.add(queued(rec));
      this.publish({ type: "status", job_id: rec.id, status: "pending", at: now });
      this.log.info("job re-queued", { job_id: rec.id, reason: history.reason });
    } else {
      this.publishEnd(rec, now);
      // One line per outcome so operators can follow jobs in the log (benches run at "warn").
      this.log.info(`job ${rec.status}`, {
        job_id: rec.id, type: rec.type, node_id: l.node_id, attempts: rec.attempts, ms: now - rec.created_at,
        ...(rec.status === "completed" ? {} : { reason: history.reason }),
      });
    }
    this.kick();
    return rec;
  }

  /**
   * Retry backoff: the job is pending in the store at once (so it survives a restart, which
   * queues it without the wait) and joins the in-memory queue when its delay is over.
   */
  private requeueLater(rec: JobRecord, delayMs: number): void {
    const job = queued(rec);
    const timer = setTimeout(() => {
      this.delayed.delete(job.id);
      if (!this.started) return;
      this.pending.add(job);
      this.kick();
    }, delayMs);
    timer.unref();
    this.delayed.set(job.id, timer);
  }

  private async countFailure(nodeId: string, type: string, what: string): Promise<void> {
    const n = await this.store.recordNodeFailure(nodeId, type, what, this.clock.now());
    if (n >= this.cfg.blocklist_threshold && !this.registry.isBlocked(nodeId, type)) {
      const reason = blockReason(n, type, what);
      this.registry.block(nodeId, type, reason);
      this.log.warn("node blocklisted for job type", { node_id: nodeId, type, reason });
    }
  }

  /** One event per ending: `completed` or `error` (which carries failed/cancelled); a separate status event would double the mesh traffic of the hot path. */
  private publishEnd(rec: JobRecord, at: number): void {
    if (rec.parent) {
      if (this.characters.isStep(rec)) this.characters.stepEnded(rec);
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
      this.log.warn("event publish failed", { job_id: e.job_id, error: toFarmError(err).message });
    }
  }

  private stale(nodeId: unknown, jobId: unknown, token: unknown): FarmError {
    return new FarmError("STALE_LEASE", `report for job '${String(jobId)}' from node '${String(nodeId)}' with token ${String(token)} ignored: that lease is no longer current`, {
      field: "token", constraint: "current_lease", job_id: jobId, node_id: nodeId,
    });
  }
}
