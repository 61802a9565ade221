/**
 * The coordinator's live node table: last report per node, operator drain flags, the
 * per-type blocklist, and which jobs the coordinator has leased to each node (kept apart
 * from node entries so jobs recovered after a restart count before their node's first
 * heartbeat). The NodeView objects handed to the scheduler are updated in place.
 */
import type { NodeReport } from "../core/telemetry.ts";
import type { NodeView } from "./node-view.ts";

export interface NodeEntry extends NodeView {
  blocklisted: Map<string, string>;
  assigned: Map<number, Map<string, number>>;
  last_seen: number;
  /** Operator drain (the agent may also report draining itself). */
  operatorDrain: boolean;
  /** capabilitySignature of `report`, to notice capability changes cheaply. */
  signature: string;
}

interface Placed {
  gpu: number | null;
  model: string | undefined;
}

/** A node's state as `nodes()`/`status()` show it. */
export interface NodeStatus {
  node_id: string;
  report: NodeReport;
  draining: boolean;
  blocklisted: Record<string, string>;
  running_jobs: string[];
  unavailable?: string;
  last_seen: number;
}

export class NodeRegistry {
  private readonly entries = new Map<string, NodeEntry>();
  private readonly jobs = new Map<string, Map<string, Placed>>();
  private readonly blocklist = new Map<string, Map<string, string>>();
  private readonly drains = new Set<string>();
  /**
   * Per node id, the process seen last (its report's `started_at`) and, after it changed,
   * the leases the new process did not list (kept apart from entries: a silent node's entry
   * is removed, but its restart must still be told from its return).
   */
  private readonly instances = new Map<string, { startedAt: number; orphans: Set<string> | null }>();
  private viewCache: NodeEntry[] | undefined;
  /** Bumped when the set of capabilities on offer may have changed. */
  capabilityVersion = 0;

  upsert(report: NodeReport, now: number): NodeEntry {
    let e = this.entries.get(report.node_id);
    if (!e) {
      e = {
        report,
        draining: false,
        blocklisted: this.blocklistOf(report.node_id),
        running: this.jobs.get(report.node_id)?.size ?? 0,
        assigned: new Map(),
        last_seen: now,
        operatorDrain: this.drains.has(report.node_id),
        signature: capabilitySignature(report),
      };
      this.rebuildAssigned(e);
      this.entries.set(report.node_id, e);
      this.viewCache = undefined;
      this.capabilityVersion++;
    } else if (e.report !== report) {
      const sig = capabilitySignature(report);
      if (sig !== e.signature) {
        e.signature = sig;
        this.capabilityVersion++;
      }
    }
    e.report = report;
    e.last_seen = now;
    e.draining = e.operatorDrain || report.draining;
    delete e.unavailable;
    return e;
  }

  remove(nodeId: string): boolean {
    const had = this.entries.delete(nodeId);
    if (had) {
      this.viewCache = undefined;
      this.capabilityVersion++;
    }
    return had;
  }

  /**
   * Note the process behind `nodeId` (its `started_at`). Answers "restarted" the first time
   * a different process reports under a known id, "same" otherwise (a first report too).
   */
  noteInstance(nodeId: string, startedAt: number): "same" | "restarted" {
    const known = this.instances.get(nodeId);
    if (known && known.startedAt === startedAt) return "same";
    this.instances.set(nodeId, { startedAt, orphans: null });
    return known ? "restarted" : "same";
  }

  /** Set (a restart was just seen) or take (and clear) the leases a restarted node's new process did not list, as `job_id:token`. */
  setOrphans(nodeId: string, keys: Set<string>): void {
    const i = this.instances.get(nodeId);
    if (i) i.orphans = keys;
  }

  takeOrphans(nodeId: string): Set<string> | null {
    const i = this.instances.get(nodeId);
    const o = i?.orphans ?? null;
    if (i) i.orphans = null;
    return o;
  }

  get(nodeId: string): NodeEntry | undefined {
    return this.entries.get(nodeId);
  }

  views(): readonly NodeEntry[] {
    return (this.viewCache ??= [...this.entries.values()]);
  }

  reports(): NodeReport[] {
    return this.views().map((e) => e.report);
  }

  setDrain(nodeId: string, on: boolean): void {
    if (on) this.drains.add(nodeId);
    else this.drains.delete(nodeId);
    const e = this.entries.get(nodeId);
    if (e) {
      e.operatorDrain = on;
      e.draining = on || e.report.draining;
    }
  }

  block(nodeId: string, type: string, reason: string): void {
    this.blocklistOf(nodeId).set(type, reason);
    // What the farm can run changed: a job type may have become impossible.
    this.capabilityVersion++;
  }

  unblock(nodeId: string, type?: string): void {
    const b = this.blocklist.get(nodeId);
    if (!b) return;
    if (type === undefined) b.clear();
    else b.delete(type);
    this.capabilityVersion++;
  }

  /** Whether `nodeId` is blocklisted for any job type (live or not). */
  hasBlocklist(nodeId: string): boolean {
    return (this.blocklist.get(nodeId)?.size ?? 0) > 0;
  }

  isBlocked(nodeId: string, type: string): boolean {
    return this.blocklist.get(nodeId)?.has(type) === true;
  }

  addJob(nodeId: string, jobId: string, gpu: number | null, model: string | undefined): void {
    let m = this.jobs.get(nodeId);
    if (!m) this.jobs.set(nodeId, (m = new Map()));
    m.set(jobId, { gpu, model });
    const e = this.entries.get(nodeId);
    if (e) {
      e.running = m.size;
      if (gpu !== null && model !== undefined) bump(e.assigned, gpu, model, 1);
    }
  }

  /** False when the job held no slot there (already removed). */
  removeJob(nodeId: string, jobId: string): boolean {
    const m = this.jobs.get(nodeId);
    const p = m?.get(jobId);
    if (!m || !p) return false;
    m.delete(jobId);
    const e = this.entries.get(nodeId);
    if (e) {
      e.running = m.size;
      if (p.gpu !== null && p.model !== undefined) bump(e.assigned, p.gpu, p.model, -1);
    }
    return true;
  }

  jobsOn(nodeId: string): string[] {
    return [...(this.jobs.get(nodeId)?.keys() ?? [])];
  }

  status(e: NodeEntry): NodeStatus {
    const s: NodeStatus = {
      node_id: e.report.node_id,
      report: e.report,
      draining: e.draining,
      blocklisted: Object.fromEntries(e.blocklisted),
      running_jobs: this.jobsOn(e.report.node_id),
      last_seen: e.last_seen,
    };
    if (e.unavailable !== undefined) s.unavailable = e.unavailable;
    return s;
  }

  private blocklistOf(nodeId: string): Map<string, string> {
    let b = this.blocklist.get(nodeId);
    if (!b) this.blocklist.set(nodeId, (b = new Map()));
    return b;
  }

  private rebuildAssigned(e: NodeEntry): void {
    for (const p of this.jobs.get(e.report.node_id)?.values() ?? []) {
      if (p.gpu !== null && p.model !== undefined) bump(e.assigned, p.gpu, p.model, 1);
    }
  }
}

function bump(a: Map<number, Map<string, number>>, gpu: number, model: string, d: number): void {
  let g = a.get(gpu);
  if (!g) a.set(gpu, (g = new Map()));
  const n = (g.get(model) ?? 0) + d;
  if (n > 0) g.set(model, n);
  else g.delete(model);
}

/** What decides "could this node ever run X" (job types, models, VRAM needs, GPU sizes) and what params it takes. */
function capabilitySignature(r: NodeReport): string {
  return JSON.stringify([r.job_types, r.models, r.model_vram, (r.gpus ?? []).map((g) => g.memory_total_mb), r.param_schemas ?? null]);
}
