/**
 * The node agent, transport-agnostic: mesh/agent-service.ts (Moleculer) calls these
 * methods and implements AgentReporter; tests call them directly.
 *
 * Life of a task here: startTask() accepts or refuses synchronously (draining ->
 * SERVICE_UNAVAILABLE, full -> CONFLICT, unknown type -> CAPABILITY_UNAVAILABLE, sent by
 * a deposed leader -> STALE_LEASE: leader-epoch.ts), then
 * in the background: resolve the model, acquire it on the task's GPU (loading/evicting),
 * run the plugin (task-runner.ts), release the model, and report completed/failed with
 * the task's fencing token. Every reporter call is awaited in order per task, and its
 * errors (a stale lease, the mesh being down) are logged, never thrown.
 *
 * Cancel is reported as failed with JOB_CANCELLED (retryable false); the coordinator
 * records the job as cancelled. Drain hands running jobs back as failed with
 * NODE_LOST, retryable true (the coordinator re-queues them without spending an attempt), so they are re-queued elsewhere.
 */
import os from "node:os";
import type { FarmConfig } from "../core/config/schema.ts";
import type { ArtifactStore } from "../core/artifact-store.ts";
import type { AgentReporter, DispatchTask } from "../core/mesh-contract.ts";
import type { GpuInfo, NodeReport } from "../core/telemetry.ts";
import type { Clock } from "../core/clock.ts";
import { systemClock } from "../core/clock.ts";
import type { Logger } from "../core/logger.ts";
import { silentLogger } from "../core/logger.ts";
import { FarmError } from "../core/errors.ts";
import type { GpuProbe } from "./gpu-probe.ts";
import { ModelManager, type ModelHandle } from "./model-manager.ts";
import type { LoadedPlugin, PluginSet, UnavailableModel } from "./plugin-loader.ts";
import { classifyError, startTaskRun, type TaskOutcome, type TaskRun } from "./task-runner.ts";
import { resolveTaskModel } from "./task-model.ts";
import { LeaderEpochFence } from "./leader-epoch.ts";
import { nodeGpus } from "./node-gpus.ts";
import { validateDispatch } from "./dispatch-check.ts";
import { NodeReportBuilder } from "./node-report.ts";
import { PluginModelLoaders } from "./plugin-loaders.ts";

export interface AgentDeps {
  nodeId: string;
  config: FarmConfig;
  /** From loadPlugins()/preparePlugins(). */
  plugins: PluginSet;
  probe: GpuProbe;
  artifacts: ArtifactStore;
  reporter: AgentReporter;
  clock?: Clock;
  logger?: Logger;
  /** Defaults to os.hostname(). */
  hostname?: string;
}

/** A job this agent holds a lease for. */
export interface RunningJob {
  job_id: string;
  token: number;
  type: string;
  attempt: number;
  model?: string;
  gpu_index: number | null;
  started_at: number;
  phase: "loading" | "running";
}

interface Running {
  task: DispatchTask;
  started_at: number;
  phase: "loading" | "running";
  run: TaskRun | null;
  cancelReason: FarmError | null;
  /** Reporter calls for this job, in order. */
  reports: Promise<void>;
  finished: Promise<void>;
}

export class Agent {
  readonly nodeId: string;
  readonly models: ModelManager;
  private readonly cfg: FarmConfig;
  private readonly plugins: PluginSet;
  private readonly probe: GpuProbe;
  private readonly artifacts: ArtifactStore;
  private readonly reporter: AgentReporter;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly reports: NodeReportBuilder;
  private readonly running = new Map<string, Running>();
  /** Finished jobs whose outcome report is not delivered yet (`job_id:token` -> lease). */
  private readonly reporting = new Map<string, { job_id: string; token: number }>();
  private readonly loaders: PluginModelLoaders;
  private gpuList: GpuInfo[] = [];
  private timer: NodeJS.Timeout | null = null;
  private ticking = false;
  private isDraining = false;
  /** Which coordinator may dispatch here (HA): see leader-epoch.ts. */
  private readonly leader = new LeaderEpochFence();

  constructor(deps: AgentDeps) {
    this.nodeId = deps.nodeId;
    this.cfg = deps.config;
    this.plugins = deps.plugins;
    this.probe = deps.probe;
    this.artifacts = deps.artifacts;
    this.reporter = deps.reporter;
    this.clock = deps.clock ?? systemClock;
    this.logger = (deps.logger ?? silentLogger).child({ node_id: deps.nodeId });
    this.models = new ModelManager({ clock: this.clock, logger: this.logger });
    this.reports = new NodeReportBuilder({
      nodeId: deps.nodeId,
      hostname: deps.hostname ?? os.hostname(),
      startedAt: this.clock.now(),
      config: deps.config,
      plugins: deps.plugins,
      models: this.models,
      clock: this.clock,
    });
    this.loaders = new PluginModelLoaders(deps.plugins, this.logger, () => this.gpuList);
    this.probe.attachUsage?.((i) => this.models.usedMb(i));
    // A plugin's models changed (a ComfyUI instance restarted): tell the coordinator now,
    // with the GPUs re-read too (a server that came up may be what reports its GPU).
    this.plugins.onModelsChanged(() => {
      if (this.timer) void this.refreshGpus().then(() => this.heartbeat());
    });
  }

  get draining(): boolean {
    return this.isDraining;
  }

  /** Probe GPUs, send a first heartbeat, then one every agent.telemetry_interval_ms. */
  async start(): Promise<void> {
    await this.refreshGpus();
    await this.heartbeat();
    // A second one shortly after: a coordinator that knew this node id from an earlier
    // process re-queues that process's jobs only when a second report of ours confirms we
    // do not hold them (coordinator/node-events.ts), so the telemetry interval would delay
    // their recovery. 100 ms: time for a dispatch that crossed our first report to land.
    setTimeout(() => void (this.timer && this.heartbeat()), 100).unref();
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.cfg.agent.telemetry_interval_ms);
    this.timer.unref();
  }

  /** Stop telemetry, hand back whatever still runs (see drain), unload idle models. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.running.size > 0) await this.drain(0);
    await this.models.unloadIdle();
    await this.plugins.close();
  }

  /** Probe now and refresh the model manager's VRAM view (also done by the telemetry timer). */
  async refreshGpus(): Promise<GpuInfo[]> {
    const gpus = await nodeGpus(this.probe, this.plugins, this.logger);
    this.gpuList = gpus;
    this.models.updateGpus(gpus);
    return gpus;
  }

  /** This node as the coordinator sees it (node-report.ts); sent with each heartbeat. */
  report(): NodeReport {
    return this.reports.build({ draining: this.isDraining, gpus: this.gpuList, runningJobs: [...this.running.keys()] });
  }

  /**
   * Leases held, renewed by each heartbeat: running jobs, and finished ones whose report is
   * still being retried (the mesh is down, the coordinator restarting). Without the latter
   * a job that finished during a NATS outage lost its lease before its report got through
   * and was run a second time elsewhere.
   */
  leases(): { job_id: string; token: number }[] {
    return [...[...this.running.values()].map((r) => ({ job_id: r.task.job_id, token: r.task.token })), ...this.reporting.values()];
  }

  runningJobs(): RunningJob[] {
    return [...this.running.values()].map((r) => ({
      job_id: r.task.job_id,
      token: r.task.token,
      type: r.task.type,
      attempt: r.task.attempt,
      model: r.task.model,
      gpu_index: r.task.gpu_index,
      started_at: r.started_at,
      phase: r.phase,
    }));
  }

  /** Models this node will not load because their files are missing. */
  unavailableModels(): UnavailableModel[] {
    return this.plugins.unavailableModels();
  }

  /**
   * Accept a task (resolves as soon as it is accepted; the work runs in the background).
   * Rejects VALIDATION_ERROR (malformed), SERVICE_UNAVAILABLE (draining), CONFLICT (at
   * max_concurrent_jobs, or the job already runs here under another token),
   * CAPABILITY_UNAVAILABLE (no enabled plugin serves the type), STALE_LEASE (sent by a
   * leader older than one already heard of: a deposed coordinator's late dispatch). A
   * redelivery of a task already running with the same token is accepted again without a
   * second run.
   */
  async startTask(task: DispatchTask): Promise<void> {
    validateDispatch(task);
    this.leader.admit(task.job_id, task.epoch);
    const existing = this.running.get(task.job_id);
    if (existing) {
      if (existing.task.token === task.token) return;
      throw new FarmError("CONFLICT", `job ${task.job_id} already runs on node ${this.nodeId} under lease token ${existing.task.token}`, {
        field: "token",
        constraint: "current",
      });
    }
    if (this.isDraining) throw new FarmError("SERVICE_UNAVAILABLE", `node ${this.nodeId} is draining and accepts no new jobs`);
    const hit = this.plugins.forTask(task.type, task.model);
    if (!hit)
      throw new FarmError("CAPABILITY_UNAVAILABLE", `node ${this.nodeId} has no plugin for job type ${task.type}`, { field: "type", constraint: "capability" });
    // A run-time model this node stopped offering since the coordinator's last view of it (its
    // ComfyUI went down): refuse, so the coordinator hands the job back without spending an
    // attempt and waits for our next heartbeat.
    if (task.model !== undefined && typeof hit.plugin.plugin.discoverModels === "function") {
      const why = this.plugins.missingFiles(hit.plugin, task.model);
      if (why.length > 0) {
        throw new FarmError("CAPABILITY_UNAVAILABLE", `node ${this.nodeId} cannot run model '${task.model}' now: ${why.join("; ")}`, {
          field: "model",
          constraint: "available",
          model: task.model,
        });
      }
    }
    if (this.running.size >= this.cfg.agent.max_concurrent_jobs) {
      throw new FarmError("CONFLICT", `node ${this.nodeId} is full (${this.running.size}/${this.cfg.agent.max_concurrent_jobs} jobs running)`, {
        constraint: "max_concurrent_jobs",
      });
    }
    const r: Running = {
      task,
      started_at: this.clock.now(),
      phase: "loading",
      run: null,
      cancelReason: null,
      reports: Promise.resolve(),
      finished: Promise.resolve(),
    };
    this.running.set(task.job_id, r);
    r.finished = this.execute(r, hit.plugin);
  }

  /** Abort a running job. Unknown jobs and stale tokens are ignored (best effort). */
  async cancelTask(jobId: string, token: number): Promise<void> {
    const r = this.running.get(jobId);
    if (!r || token < r.task.token) return;
    this.abort(r, new FarmError("JOB_CANCELLED", `job ${jobId} was cancelled`));
  }

  /**
   * Stop accepting work, let running jobs finish for up to `timeoutMs`
   * (default agent.drain_timeout_ms), then abort the rest and hand them back (reported
   * failed, NODE_LOST, retryable). Resolves when every job is finished/reported.
   */
  async drain(timeoutMs = this.cfg.agent.drain_timeout_ms): Promise<{ finished: string[]; handed_back: string[] }> {
    this.isDraining = true;
    this.logger.info("draining", { running: this.running.size, timeout_ms: timeoutMs });
    void this.heartbeat();
    const at = [...this.running.keys()];
    const all = Promise.all([...this.running.values()].map((r) => r.finished));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise<void>((res) => (timer = setTimeout(res, timeoutMs)))]);
    clearTimeout(timer);
    const handed_back: string[] = [];
    for (const r of this.running.values()) {
      handed_back.push(r.task.job_id);
      this.abort(r, new FarmError("NODE_LOST", `node ${this.nodeId} is shutting down: job handed back to be run elsewhere`, { node_id: this.nodeId }, true));
    }
    await all;
    return { finished: at.filter((id) => !handed_back.includes(id)), handed_back };
  }

  /** Accept work again after a drain. */
  undrain(): void {
    this.isDraining = false;
    void this.heartbeat();
  }

  private abort(r: Running, reason: FarmError): void {
    if (r.cancelReason) return;
    r.cancelReason = reason;
    r.run?.cancel(reason);
  }

  private async execute(r: Running, lp: LoadedPlugin): Promise<void> {
    const { task } = r;
    const log = this.logger.child({ job_id: task.job_id, attempt: task.attempt });
    let handle: ModelHandle | null = null;
    let outcome: TaskOutcome;
    try {
      // The acceptance goes back to the coordinator before any plugin code runs. A plugin
      // whose first step is long and synchronous held the reply otherwise: the mesh called
      // this node silent with the dispatch still in flight, Moleculer rejected the call,
      // and the coordinator re-queued a job that was running here (it ran twice). The reply
      // is written within the microtasks after startTask settles (Moleculer's reply chain,
      // then the `nats` client's flush, queued with queueMicrotask); setImmediate runs after
      // every microtask has drained, so the reply has left. A setTimeout(10) did the same
      // and cost every job 10 ms (the comfyui bench: farm overhead p50 16.1 ms -> 5.1 ms).
      await new Promise<void>((res) => setImmediate(res));
      const spec = resolveTaskModel(this.plugins, lp, task.type, task.model);
      if (spec && !r.cancelReason) handle = await this.models.acquire(spec, task.gpu_index ?? null, this.loaders.for(lp));
      if (r.cancelReason) throw r.cancelReason;
      r.phase = "running";
      const gpuIndex = handle ? handle.gpu_index : (task.gpu_index ?? null);
      r.run = startTaskRun({
        task: { job_id: task.job_id, type: task.type, params: task.params, model: spec?.id, attempt: task.attempt, gpu_index: gpuIndex },
        plugin: lp.plugin,
        pluginConfig: lp.config,
        model: handle?.value,
        gpus: this.gpuList,
        modelsDir: this.plugins.modelsDir,
        artifacts: this.artifacts,
        leaseToken: task.token,
        logger: log,
        workRoot: this.cfg.agent.work_dir,
        cancelGraceMs: this.cfg.agent.cancel_grace_ms,
        onProgress: (pct, message) =>
          this.send(r, "progress", () => this.reporter.progress({ node_id: this.nodeId, job_id: task.job_id, token: task.token, progress: pct, message })),
      });
      outcome = await r.run.done;
    } catch (err) {
      const c = classifyError(err);
      outcome = { status: "failed", ...c, cancelled: r.cancelReason !== null };
      if (!r.cancelReason) log.warn("task could not start", { code: c.error.code, error: c.error.message });
    } finally {
      if (handle) this.models.release(handle);
      this.reporting.set(`${task.job_id}:${task.token}`, { job_id: task.job_id, token: task.token });
      this.running.delete(task.job_id);
    }
    const base = { node_id: this.nodeId, job_id: task.job_id, token: task.token };
    if (outcome.status === "completed") {
      const { result, message } = outcome;
      // The task's last progress message rides on the completion (task-runner.ts, finish).
      this.send(r, "completed", () => this.reporter.completed(message === undefined ? { ...base, result } : { ...base, result, message }));
    } else {
      const { error, retryable } = outcome;
      this.send(r, "failed", () => this.reporter.failed({ ...base, error, retryable }));
    }
    await r.reports;
    this.reporting.delete(`${task.job_id}:${task.token}`);
  }

  /** Queue a reporter call behind this job's earlier ones; log (never throw) its errors. */
  private send(r: Running, what: string, call: () => Promise<void>): void {
    r.reports = r.reports
      .then(call)
      .catch((err: unknown) =>
        this.logger.warn(`reporting ${what} failed`, { job_id: r.task.job_id, error: err instanceof Error ? err.message : String(err) }),
      );
  }

  private async tick(): Promise<void> {
    if (this.ticking) return; // a slow nvidia-smi must not pile up probes
    this.ticking = true;
    try {
      await this.plugins.refreshModels();
      await this.refreshGpus();
      await this.heartbeat();
    } finally {
      this.ticking = false;
    }
  }

  /** Send a heartbeat at once (a coordinator that just started wants to know us). */
  heartbeatNow(): Promise<void> {
    return this.heartbeat();
  }

  /** A leader epoch heard of (HA; `announced`: a new term's own broadcast): see LeaderEpochFence.note. */
  noteLeaderEpoch(epoch: unknown, announced = false): void {
    this.leader.note(epoch, announced);
  }

  private async heartbeat(): Promise<void> {
    try {
      await this.reporter.heartbeat({ ...this.report(), leases: this.leases(), ...this.leader.reportField() });
    } catch (err) {
      this.logger.warn("heartbeat failed", { error: err instanceof Error ? err.message : String(err) });
    }
  }
}
