/**
 * The farm-level metrics, kept where the facts are: in the coordinator's process. Job
 * counters and histograms are fed by the job store's writes (observed-store.ts), model
 * loads and evictions by node heartbeats (model-tracker.ts), and the gauges (queue depth,
 * nodes, GPUs, resident models) are read from the coordinator's status when scraped.
 * The API's /metrics fetches `snapshot()` over the mesh (metrics-service.ts) and serves it
 * beside its own HTTP metrics, so embedded and distributed farms expose the same series.
 */
import { Counter, Gauge, Histogram, Registry, type MetricObjectWithValues, type MetricValue } from "prom-client";
import type { JobRecord, JobStatus } from "../job.ts";
import type { NodeReport } from "../telemetry.ts";
import type { JobStoreListener } from "./observed-store.ts";
import { ModelTracker } from "./model-tracker.ts";

/** Queue waits: from milliseconds (a free node) to an hour (a busy farm). */
export const WAIT_BUCKETS = [0.001, 0.005, 0.025, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600];
/** Run times: no-op jobs to hour-long renders. */
export const RUN_BUCKETS = [0.005, 0.025, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];
/** Cold model loads: a CPU model in milliseconds, a big checkpoint in minutes. */
export const LOAD_BUCKETS = [0.05, 0.25, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** The part of Coordinator.status() the gauges read (kept narrow so tests can feed it). */
export interface StatusSource {
  status(): Promise<{
    nodes: { node_id: string; draining: boolean; running_jobs: string[]; report: NodeReport }[];
    queue: Record<string, number>;
    counts: Record<string, Partial<Record<JobStatus, number>>>;
  }>;
}

const MB = 1024 * 1024;
const modelOf = (rec: JobRecord) => rec.requirements?.model ?? "none";

/** When the job last entered the queue: its submission, or its latest re-queue. */
function queuedAt(rec: JobRecord): number {
  for (let i = rec.history.length - 1; i >= 0; i--) {
    const h = rec.history[i]!;
    if (h.event === "requeued" || h.event === "submitted") return h.at;
  }
  return rec.created_at;
}

export class CoordinatorMetrics implements JobStoreListener {
  readonly registry = new Registry();
  private readonly models = new ModelTracker();
  private readonly submitted: Counter<"type">;
  private readonly completed: Counter<"type">;
  private readonly failed: Counter<"type" | "code">;
  private readonly cancelled: Counter<"type">;
  private readonly requeued: Counter<"type">;
  private readonly wait: Histogram<"type">;
  private readonly run: Histogram<"type" | "model" | "status">;
  private readonly loads: Counter<"node" | "model">;
  private readonly evictions: Counter<"node" | "model">;
  private readonly loadTime: Histogram<"model">;
  private readonly queueDepth: Gauge<"type">;
  private readonly jobs: Gauge<"type" | "status">;
  private readonly nodes: Gauge<"state">;
  private readonly nodeRunning: Gauge<"node">;
  private readonly vramUsed: Gauge<"node" | "gpu" | "name" | "simulated">;
  private readonly vramTotal: Gauge<"node" | "gpu" | "name" | "simulated">;
  private readonly util: Gauge<"node" | "gpu" | "name" | "simulated">;
  private readonly temp: Gauge<"node" | "gpu" | "name" | "simulated">;
  private readonly resident: Gauge<"node" | "gpu" | "model">;
  private readonly up: Gauge;

  constructor(private readonly source?: StatusSource) {
    const registers = [this.registry];
    this.submitted = new Counter({ name: "farm_jobs_submitted_total", help: "Jobs stored by the coordinator, by job type", labelNames: ["type"], registers });
    this.completed = new Counter({ name: "farm_jobs_completed_total", help: "Jobs that completed, by job type", labelNames: ["type"], registers });
    this.failed = new Counter({
      name: "farm_jobs_failed_total",
      help: "Jobs that failed for good (after their attempts), by job type and error code",
      labelNames: ["type", "code"],
      registers,
    });
    this.cancelled = new Counter({ name: "farm_jobs_cancelled_total", help: "Jobs cancelled, by job type", labelNames: ["type"], registers });
    this.requeued = new Counter({
      name: "farm_jobs_requeued_total",
      help: "Attempts that ended with the job back in the queue (retry, lost node, hand-back)",
      labelNames: ["type"],
      registers,
    });
    this.wait = new Histogram({
      name: "farm_job_wait_seconds",
      help: "Time a job waited in the queue before a node took it (per attempt)",
      labelNames: ["type"],
      buckets: WAIT_BUCKETS,
      registers,
    });
    this.run = new Histogram({
      name: "farm_job_run_seconds",
      help: "Time from a job's start on a node to its end, by job type, model and final status",
      labelNames: ["type", "model", "status"],
      buckets: RUN_BUCKETS,
      registers,
    });
    this.loads = new Counter({ name: "farm_model_loads_total", help: "Model loads seen in node heartbeats", labelNames: ["node", "model"], registers });
    this.evictions = new Counter({
      name: "farm_model_evictions_total",
      help: "Model unloads (evictions) seen in node heartbeats",
      labelNames: ["node", "model"],
      registers,
    });
    this.loadTime = new Histogram({
      name: "farm_model_load_seconds",
      help: "Cold-load time of models, as the agent measured it",
      labelNames: ["model"],
      buckets: LOAD_BUCKETS,
      registers,
    });
    this.queueDepth = new Gauge({ name: "farm_queue_depth", help: "Pending jobs per job type", labelNames: ["type"], registers });
    this.jobs = new Gauge({ name: "farm_jobs", help: "Jobs in the job store by type and status", labelNames: ["type", "status"], registers });
    this.nodes = new Gauge({ name: "farm_nodes", help: "Live nodes, by state (active or draining)", labelNames: ["state"], registers });
    this.nodeRunning = new Gauge({ name: "farm_node_running_jobs", help: "Jobs leased to each node", labelNames: ["node"], registers });
    const gpu = ["node", "gpu", "name", "simulated"] as const;
    this.vramUsed = new Gauge({ name: "farm_gpu_memory_used_bytes", help: "GPU memory in use, as the node reported it", labelNames: gpu, registers });
    this.vramTotal = new Gauge({ name: "farm_gpu_memory_total_bytes", help: "GPU memory in all", labelNames: gpu, registers });
    this.util = new Gauge({
      name: "farm_gpu_utilization_ratio",
      help: "GPU utilisation 0..1 (absent when the driver reports N/A)",
      labelNames: gpu,
      registers,
    });
    this.temp = new Gauge({ name: "farm_gpu_temperature_celsius", help: "GPU temperature", labelNames: gpu, registers });
    this.resident = new Gauge({ name: "farm_model_resident_bytes", help: "VRAM held by each resident model", labelNames: ["node", "gpu", "model"], registers });
    this.up = new Gauge({ name: "farm_coordinator_up", help: "1 when the coordinator answered this scrape", registers });
  }

  // --- job store writes (observed-store.ts) ---------------------------------------------

  created(rec: JobRecord): void {
    this.submitted.inc({ type: rec.type });
    // Placed on a node at submit: it waited for nothing. (Parent jobs are created running too,
    // but on no node: they never queue, so they have no wait.)
    if (rec.status === "running" && rec.node_id !== undefined) this.wait.observe({ type: rec.type }, 0);
  }

  moved(from: readonly JobStatus[], rec: JobRecord): void {
    const type = rec.type;
    switch (rec.status) {
      case "running":
        if (rec.started_at !== undefined) this.wait.observe({ type }, Math.max(0, rec.started_at - queuedAt(rec)) / 1000);
        return;
      case "pending":
        if (from.includes("running")) this.requeued.inc({ type });
        return;
      case "completed":
        this.completed.inc({ type });
        break;
      case "failed":
        this.failed.inc({ type, code: rec.error?.code ?? "JOB_FAILED" });
        break;
      case "cancelled":
        this.cancelled.inc({ type });
        break;
    }
    // Run time of jobs that ran (a pending job cancelled never started).
    if (from.includes("running") && rec.started_at !== undefined && rec.finished_at !== undefined) {
      this.run.observe({ type, model: modelOf(rec), status: rec.status }, Math.max(0, rec.finished_at - rec.started_at) / 1000);
    }
  }

  // --- heartbeats (mesh-middleware.ts) --------------------------------------------------

  heartbeat(report: Pick<NodeReport, "node_id" | "resident">): void {
    for (const c of this.models.observe(report)) {
      const labels = { node: c.node_id, model: c.model_id };
      if (c.kind === "eviction") this.evictions.inc(labels);
      else {
        this.loads.inc(labels);
        if (typeof c.load_ms === "number" && c.load_ms >= 0) this.loadTime.observe({ model: c.model_id }, c.load_ms / 1000);
      }
    }
  }

  // --- scrape ---------------------------------------------------------------------------

  /** Refresh the gauges from the coordinator's status and return every metric (prom-client's JSON form). */
  async snapshot(): Promise<MetricObjectWithValues<MetricValue<string>>[]> {
    if (this.source) await this.refresh(this.source);
    return this.registry.getMetricsAsJSON();
  }

  private async refresh(source: StatusSource): Promise<void> {
    for (const g of [this.queueDepth, this.jobs, this.nodes, this.nodeRunning, this.vramUsed, this.vramTotal, this.util, this.temp, this.resident]) g.reset();
    let st: Awaited<ReturnType<StatusSource["status"]>>;
    try {
      st = await source.status();
    } catch {
      this.up.set(0); // the store is down: counters still answer, gauges stay empty
      return;
    }
    this.up.set(1);
    for (const [type, n] of Object.entries(st.queue)) this.queueDepth.set({ type }, n);
    for (const [type, row] of Object.entries(st.counts)) for (const [status, n] of Object.entries(row)) this.jobs.set({ type, status }, n ?? 0);
    let active = 0;
    let draining = 0;
    for (const n of st.nodes) {
      if (n.draining) draining++;
      else active++;
      const node = n.node_id;
      this.nodeRunning.set({ node }, n.running_jobs.length);
      for (const g of n.report.gpus ?? []) {
        const l = { node, gpu: String(g.index), name: g.name, simulated: String(g.simulated) };
        this.vramUsed.set(l, g.memory_used_mb * MB);
        this.vramTotal.set(l, g.memory_total_mb * MB);
        if (g.utilization_pct !== null) this.util.set(l, g.utilization_pct / 100);
        if (g.temperature_c !== null) this.temp.set(l, g.temperature_c);
      }
      for (const m of n.report.resident ?? [])
        this.resident.inc({ node, gpu: m.gpu_index === null ? "cpu" : String(m.gpu_index), model: m.model_id }, m.vram_mb * MB);
    }
    this.nodes.set({ state: "active" }, active);
    this.nodes.set({ state: "draining" }, draining);
    this.models.retain(new Set(st.nodes.map((n) => n.node_id)));
  }
}
