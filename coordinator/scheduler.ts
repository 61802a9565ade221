/**
 * The placement function: pure, synchronous, no I/O. Given one job and the live nodes it
 * answers "placed on node X / GPU n", "wait" (some node could run it once busy capacity
 * frees) or "impossible" (no live node could ever run it), with a human reason for the
 * nodes that were not chosen, so `farmctl why` can explain.
 *
 * Pipeline per node, first failing step gives the reason:
 *   capability (offers the job type, and the model) -> hardware that could ever fit
 *   (a GPU at all, a GPU big enough) -> available (not unavailable, not draining, not
 *   blocklisted for the type, below max_concurrent_jobs) -> VRAM fit on some GPU now
 *   (counting evictable idle models; see vram-fit.ts).
 * Among fitting candidates: warm model first (affinity), then least loaded (running /
 * capacity), then lower GPU utilisation (or CPU load for CPU jobs), then more free VRAM,
 * then node id (deterministic). Nodes in `job.failed_on` are used only when no other node
 * can take the job now and none other is merely busy, or, once `job.avoid_until` has passed,
 * when no other node can take it now (a busy one no longer makes it wait).
 *
 * Speed: one pass over the nodes, no allocation per GPU, candidates ranked on the fly;
 * reason strings (the costly part on big farms) are built for at most `maxReasons` nodes
 * plus the chosen one.
 */
import type { JobRequirements } from "../core/job.ts";
import type { NodeView } from "./node-view.ts";
import { bestGpu, emptyFit, fitOnGpu, indexReport, type GpuFit } from "./vram-fit.ts";

export interface PlacementJob {
  type: string;
  requirements: JobRequirements;
  /** Nodes the job already failed on (avoided when another candidate exists). */
  failed_on?: readonly string[];
  /**
   * Until this time (ms) the job waits for a busy node it has not failed on rather than go
   * back to one in `failed_on`; after it, a free node it failed on takes it. Absent: it waits
   * for as long as another capable node is busy (records written before the limit existed).
   */
  avoid_until?: number;
}

export type Verdict = "placed" | "wait" | "impossible";

export interface Placement {
  verdict: Verdict;
  node_id?: string;
  /** GPU chosen (null for CPU work or when not placed). */
  gpu_index: number | null;
  /**
   * node id -> why it was not chosen (for the chosen node: why it was). When more nodes
   * than `maxReasons` exist, the key "..." says how many were left out.
   */
  reasons: Record<string, string>;
  /** One sentence for the whole decision; for "impossible" it names the missing capability. */
  summary: string;
  /**
   * Set on a "wait" that comes only from the job's own history: a node that fits it is free,
   * but the job failed there and waits for a busy one (until `avoid_until`). A job of the
   * same class that has not failed there could run now (dispatch-rounds looks past it).
   */
  avoiding?: true;
}

export interface ScheduleOptions {
  /** Build reason strings for at most this many nodes (plus the chosen one). Default: all. */
  maxReasons?: number;
  /** The time (ms), for `job.avoid_until`. Without it the job waits as if that time had not come. */
  now?: number;
}

interface Candidate {
  node_id: string;
  gpu_index: number | null;
  warm: boolean;
  load: number;
  util: number;
  free: number;
  failedBefore: boolean;
}

interface Slot extends Candidate {
  set: boolean;
}
const emptySlot = (): Slot => ({ set: false, node_id: "", gpu_index: null, warm: false, load: 0, util: 0, free: 0, failedBefore: false });

function fill<C extends Candidate>(
  c: C,
  node_id: string,
  gpu_index: number | null,
  warm: boolean,
  load: number,
  util: number,
  free: number,
  failedBefore: boolean,
): C {
  c.node_id = node_id;
  c.gpu_index = gpu_index;
  c.warm = warm;
  c.load = load;
  c.util = util;
  c.free = free;
  c.failedBefore = failedBefore;
  return c;
}

const enum Reject {
  None,
  Permanent,
  Unavailable,
  Busy,
}

export function schedule(job: PlacementJob, nodes: readonly NodeView[], opts: ScheduleOptions = {}): Placement {
  const { type } = job;
  const model = job.requirements.model;
  const need = job.requirements.vram_mb ?? 0;
  const gpuJob = need > 0 || job.requirements.gpu === true;
  const failedOn = job.failed_on && job.failed_on.length > 0 ? new Set(job.failed_on) : undefined;
  const maxReasons = opts.maxReasons ?? Number.POSITIVE_INFINITY;
  const reasons: Record<string, string> = {};
  let nReasons = 0;
  let omitted = 0;
  /** Losing candidates whose reason is written once the winner is known. */
  const explained: Candidate[] = [];
  // Two reusable slots (no allocation per candidate): best among nodes the job has not failed on, and among those it has.
  const bestFresh: Slot = emptySlot();
  const bestFailed: Slot = emptySlot();
  let offersType = 0;
  let offersModel = 0;
  let biggestGpu = 0;
  let busyElsewhere = 0; // nodes outside failed_on that could run it once capacity frees
  let permanent = 0; // nodes that can never run it
  let blocked = 0; // nodes blocklisted for the job type
  const cur: Candidate = emptySlot();
  const fit = emptyFit();
  const bestFit = emptyFit();

  for (const view of nodes) {
    const r = view.report;
    const id = r.node_id;
    const idx = indexReport(r);
    const budget = nReasons < maxReasons;
    let kind = Reject.None;
    let why = "";
    let cand: Candidate | undefined;
    if (!idx.jobTypes.has(type)) {
      kind = Reject.Permanent;
      if (budget) why = `does not offer job type '${type}'`;
    } else if ((offersType++, model !== undefined && idx.models.get(type)?.has(model) !== true)) {
      kind = Reject.Permanent;
      if (budget) why = `does not offer model '${model}' for '${type}'`;
    } else if ((offersModel++, gpuJob && (r.gpus?.length ?? 0) === 0 && !cpuFallback(r, model, job))) {
      kind = Reject.Permanent;
      if (budget) why = need > 0 ? `has no GPU (needs ${need} MiB VRAM)` : "has no GPU (job needs a GPU)";
    } else if (gpuJob && need > idx.maxGpuTotal && !cpuFallback(r, model, job)) {
      biggestGpu = Math.max(biggestGpu, idx.maxGpuTotal);
      kind = Reject.Permanent;
      if (budget) why = `model '${model ?? "?"}' needs ${need} MiB; largest GPU has ${idx.maxGpuTotal} MiB`;
    } else if (view.unavailable !== undefined) {
      kind = Reject.Unavailable;
      why = view.unavailable;
    } else if (view.draining || r.draining) {
      kind = Reject.Unavailable;
      why = "draining";
    } else if (view.blocklisted.has(type)) {
      kind = Reject.Unavailable;
      blocked++;
      if (budget) why = `blocklisted for '${type}': ${view.blocklisted.get(type)}`;
    } else if (view.running >= r.max_concurrent_jobs) {
      kind = Reject.Busy;
      if (budget) why = `busy: ${view.running}/${r.max_concurrent_jobs} jobs running`;
    } else {
      const load = view.running / Math.max(1, r.max_concurrent_jobs);
      const failedBefore = failedOn?.has(id) === true;
      if (!gpuJob) {
        cand = fill(cur, id, null, false, load, r.cpu_load ?? 0, 0, failedBefore);
      } else if (need > idx.maxGpuTotal) {
        // Only reachable through cpu_fallback: no GPU here can ever hold it, its CPU can.
        cand = fill(cur, id, null, false, load, r.cpu_load ?? 0, 0, failedBefore);
      } else {
        const found = bestGpu(r, idx, model, need, view.assigned, bestFit, fit);
        if (found) {
          cand = fill(cur, id, bestFit.gpu_index, bestFit.warm, load, bestFit.utilization, bestFit.free_after_evict_mb, failedBefore);
        } else {
          kind = Reject.Busy;
          if (budget) why = noGpuReason(r.gpus, model, need, idx, r.model_vram ?? {}, view.assigned, fit);
        }
      }
    }
    if (cand) {
      const slot = cand.failedBefore ? bestFailed : bestFresh;
      if (!slot.set || rank(cand, slot) < 0) {
        fill(slot, cand.node_id, cand.gpu_index, cand.warm, cand.load, cand.util, cand.free, cand.failedBefore);
        slot.set = true;
      }
      if (budget) {
        explained.push({ ...cand });
        nReasons++;
      } else omitted++;
      continue;
    }
    if (kind === Reject.Permanent) permanent++;
    if (kind === Reject.Busy && failedOn?.has(id) !== true) busyElsewhere++;
    if (budget) {
      reasons[id] = why;
      nReasons++;
    } else omitted++;
  }

  let best = bestFresh.set ? bestFresh : undefined;
  let waitedOut = false;
  if (!best && bestFailed.set) {
    waitedOut = busyElsewhere > 0 && job.avoid_until !== undefined && opts.now !== undefined && opts.now >= job.avoid_until;
    if (busyElsewhere > 0 && !waitedOut) {
      for (const c of explained) reasons[c.node_id] = "job already failed here; waiting for another node";
      return withOmitted(
        {
          verdict: "wait",
          gpu_index: null,
          reasons,
          avoiding: true,
          summary: `waiting for a node it has not failed on (${busyElsewhere} busy)${job.avoid_until !== undefined ? `, at most until ${new Date(job.avoid_until).toISOString()}` : ""}`,
        },
        omitted,
      );
    }
    best = bestFailed;
  }
  if (best) {
    const chosen = best.node_id;
    for (const c of explained) {
      if (c.node_id === chosen) continue;
      reasons[c.node_id] = c.failedBefore
        ? "job already failed here"
        : `could run it${c.gpu_index !== null ? ` on gpu${c.gpu_index}` : ""}, ranked lower (${describe(c)})`;
    }
    const where = best.gpu_index !== null ? ` gpu${best.gpu_index}` : "";
    if (!explained.some((c) => c.node_id === chosen)) omitted--;
    reasons[best.node_id] = `chosen${where} (${describe(best)})`;
    return withOmitted(
      {
        verdict: "placed",
        node_id: best.node_id,
        gpu_index: best.gpu_index,
        reasons,
        summary: `placed on ${best.node_id}${where}${best.warm ? ` (model '${model}' already loaded)` : ""}${
          waitedOut ? ` (it failed here before; ${busyElsewhere} other node${busyElsewhere === 1 ? "" : "s"} still busy after its wait)` : ""
        }`,
      },
      omitted,
    );
  }
  // Every node that could run it has been blocklisted for it: nothing will change until an
  // operator unblocks one, so a new job fails fast rather than waiting forever.
  if (blocked > 0 && permanent + blocked === nodes.length) {
    return withOmitted(
      {
        verdict: "impossible",
        gpu_index: null,
        reasons,
        summary: `every live node offering '${type}' is blocklisted for it (farmctl unblock <node> lifts it)`,
      },
      omitted,
    );
  }
  if (permanent < nodes.length) {
    return withOmitted(
      { verdict: "wait", gpu_index: null, reasons, summary: "waiting for capacity: every node that can run it is busy, draining, blocklisted or unavailable" },
      omitted,
    );
  }
  let summary: string;
  if (nodes.length === 0) summary = `no live node offers job type '${type}' (no nodes connected)`;
  else if (offersType === 0) summary = `no live node offers job type '${type}'`;
  else if (model !== undefined && offersModel === 0) summary = `no live node offers model '${model}' for job type '${type}'`;
  else if (biggestGpu > 0) summary = `model '${model ?? "?"}' needs ${need} MiB VRAM; the largest GPU on nodes offering it has ${biggestGpu} MiB`;
  else summary = `no live node offering '${type}' has a GPU`;
  return withOmitted({ verdict: "impossible", gpu_index: null, reasons, summary }, omitted);
}

function withOmitted(p: Placement, omitted: number): Placement {
  if (omitted > 0) p.reasons["..."] = `${omitted} more nodes not shown`;
  return p;
}

function noGpuReason(
  gpus: NodeView["report"]["gpus"],
  model: string | undefined,
  need: number,
  idx: ReturnType<typeof indexReport>,
  modelVram: Record<string, number>,
  assigned: NodeView["assigned"],
  fit: GpuFit,
): string {
  const parts: string[] = [];
  for (const g of gpus) {
    fitOnGpu(g, model, need, idx, modelVram, assigned?.get(g.index), fit);
    parts.push(`gpu${g.index}: ${fit.free_after_evict_mb}/${fit.total_mb} MiB free after evicting idle models`);
  }
  return `no GPU with ${need} MiB free (${parts.join(", ")})`;
}

/** Negative when a ranks before b. */
/**
 * A model that needs VRAM may still run on a node's CPU when the manifest says so
 * (cpu_fallback) and no GPU of that node could ever hold it: a CPU-only node, or GPUs too
 * small. A GPU that is merely busy is waited for instead (a CPU run is much slower).
 * Jobs that insist on a GPU (`requirements.gpu`) never fall back.
 */
function cpuFallback(r: NodeView["report"], model: string | undefined, job: PlacementJob): boolean {
  return model !== undefined && job.requirements.gpu !== true && r.model_cpu_fallback?.includes(model) === true;
}

function rank(a: Candidate, b: Candidate): number {
  // For a job that wants VRAM, a GPU candidate beats a CPU fallback; other jobs are all CPU.
  if ((a.gpu_index === null) !== (b.gpu_index === null)) return a.gpu_index === null ? 1 : -1;
  if (a.warm !== b.warm) return a.warm ? -1 : 1;
  if (a.load !== b.load) return a.load - b.load;
  if (a.util !== b.util) return a.util - b.util;
  if (a.free !== b.free) return b.free - a.free;
  return a.node_id < b.node_id ? -1 : a.node_id > b.node_id ? 1 : 0;
}

function describe(c: Candidate): string {
  return `${c.warm ? "model warm, " : ""}load ${Math.round(c.load * 100)}%, util ${c.util}%`;
}
