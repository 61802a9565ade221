/**
 * Does a model fit on a GPU? Free VRAM is what the telemetry says, minus models the
 * coordinator already sent there that the report does not show yet, plus idle resident
 * models (in_use == 0) the agent's model manager would evict. A model already resident
 * (or already assigned) on the GPU always fits: the job shares the loaded weights.
 *
 * The per-report facts (type/model sets, per-GPU free and evictable VRAM, where each
 * model is resident) are computed once per report object and cached, so a decision over
 * thousands of GPUs is mostly arithmetic on typed arrays.
 */
import type { GpuInfo, NodeReport, ResidentModel } from "../core/telemetry.ts";

export interface GpuFit {
  gpu_index: number;
  fits: boolean;
  /** The model is (or is about to be) loaded on this GPU. */
  warm: boolean;
  /** Free MiB now, and after evicting idle models. */
  free_mb: number;
  free_after_evict_mb: number;
  total_mb: number;
  utilization: number;
}

/** Per-report index, built once per report object and cached. */
export interface ReportIndex {
  jobTypes: ReadonlySet<string>;
  /** job type -> offered models */
  models: ReadonlyMap<string, ReadonlySet<string>>;
  /** gpu index -> resident models on it */
  resident: ReadonlyMap<number, ReadonlyMap<string, ResidentModel>>;
  maxGpuTotal: number;
  /** Per GPU, in report order: free now, free after evicting idle models, utilisation. */
  free: Float64Array;
  freeAfterEvict: Float64Array;
  util: Float64Array;
  /** model id -> per GPU (report order) 1 when resident there. */
  warm: ReadonlyMap<string, Uint8Array>;
}

/**
 * The index is cached on the report object itself under a non-enumerable symbol: a
 * property read is several times cheaper than a WeakMap lookup, and it stays invisible to
 * JSON and to deep-equality checks.
 */
const INDEX = Symbol("nb.reportIndex");
type Indexed = NodeReport & { [INDEX]?: ReportIndex };

export function indexReport(r: NodeReport): ReportIndex {
  let idx = (r as Indexed)[INDEX];
  if (idx) return idx;
  const models = new Map<string, Set<string>>();
  for (const [t, ms] of Object.entries(r.models ?? {})) models.set(t, new Set(ms));
  const resident = new Map<number, Map<string, ResidentModel>>();
  for (const m of r.resident ?? []) {
    if (m.gpu_index === null) continue;
    let g = resident.get(m.gpu_index);
    if (!g) resident.set(m.gpu_index, (g = new Map()));
    g.set(m.model_id, m);
  }
  const gpus = r.gpus ?? [];
  const free = new Float64Array(gpus.length);
  const freeAfterEvict = new Float64Array(gpus.length);
  const util = new Float64Array(gpus.length);
  const warm = new Map<string, Uint8Array>();
  let maxGpuTotal = 0;
  gpus.forEach((g, k) => {
    maxGpuTotal = Math.max(maxGpuTotal, g.memory_total_mb);
    let idle = 0;
    for (const m of resident.get(g.index)?.values() ?? []) {
      if (m.in_use === 0) idle += m.vram_mb;
      let w = warm.get(m.model_id);
      if (!w) warm.set(m.model_id, (w = new Uint8Array(gpus.length)));
      w[k] = 1;
    }
    free[k] = Math.max(0, g.memory_total_mb - g.memory_used_mb);
    freeAfterEvict[k] = Math.min(g.memory_total_mb, free[k]! + idle);
    util[k] = g.utilization_pct ?? 0;
  });
  idx = { jobTypes: new Set(r.job_types ?? []), models, resident, maxGpuTotal, free, freeAfterEvict, util, warm };
  if (Object.isExtensible(r)) Object.defineProperty(r, INDEX, { value: idx, enumerable: false, writable: true });
  return idx;
}

/**
 * Fit of one model on one GPU, written into `out` (reused: no allocation per GPU). This
 * is the general path, which also accounts for models the coordinator assigned to the GPU.
 */
export function fitOnGpu(
  gpu: GpuInfo,
  model: string | undefined,
  needMb: number,
  idx: ReportIndex,
  modelVram: Record<string, number>,
  assigned: ReadonlyMap<string, number> | undefined,
  out: GpuFit,
): GpuFit {
  const resident = idx.resident.get(gpu.index);
  let evictable = 0;
  let pendingLoad = 0;
  if (resident) {
    for (const m of resident.values()) {
      if (m.in_use === 0 && !assigned?.has(m.model_id)) evictable += m.vram_mb;
    }
  }
  if (assigned) {
    for (const [m, n] of assigned) if (n > 0 && !resident?.has(m)) pendingLoad += modelVram[m] ?? 0;
  }
  const free = Math.max(0, gpu.memory_total_mb - gpu.memory_used_mb - pendingLoad);
  const freeAfter = Math.min(gpu.memory_total_mb, free + evictable);
  const warm = model !== undefined && (resident?.has(model) === true || (assigned?.get(model) ?? 0) > 0);
  out.gpu_index = gpu.index;
  out.fits = warm || needMb <= freeAfter;
  out.warm = warm;
  out.free_mb = free;
  out.free_after_evict_mb = freeAfter;
  out.total_mb = gpu.memory_total_mb;
  out.utilization = gpu.utilization_pct ?? 0;
  return out;
}

/**
 * The node's best GPU for the model (warm first, then less utilised, then more free VRAM),
 * written into `best`; false when no GPU fits. GPUs the coordinator has assigned models to
 * take the general path; the others are pure arithmetic on the cached index.
 */
export function bestGpu(
  r: NodeReport,
  idx: ReportIndex,
  model: string | undefined,
  needMb: number,
  assigned: ReadonlyMap<number, ReadonlyMap<string, number>> | undefined,
  best: GpuFit,
  scratch: GpuFit,
): boolean {
  const gpus = r.gpus;
  const warmAt = model !== undefined ? idx.warm.get(model) : undefined;
  let found = false;
  for (let k = 0; k < gpus.length; k++) {
    const g = gpus[k]!;
    const a = assigned !== undefined && assigned.size > 0 ? assigned.get(g.index) : undefined;
    let warm: boolean;
    let freeAfter: number;
    let util: number;
    if (a !== undefined && a.size > 0) {
      fitOnGpu(g, model, needMb, idx, r.model_vram ?? {}, a, scratch);
      if (!scratch.fits) continue;
      warm = scratch.warm;
      freeAfter = scratch.free_after_evict_mb;
      util = scratch.utilization;
    } else {
      warm = warmAt !== undefined && warmAt[k] === 1;
      freeAfter = idx.freeAfterEvict[k]!;
      if (!warm && needMb > freeAfter) continue;
      util = idx.util[k]!;
    }
    if (found && !(warm !== best.warm ? warm : util !== best.utilization ? util < best.utilization : freeAfter > best.free_after_evict_mb)) continue;
    found = true;
    best.gpu_index = g.index;
    best.fits = true;
    best.warm = warm;
    best.free_after_evict_mb = freeAfter;
    best.utilization = util;
    best.total_mb = g.memory_total_mb;
  }
  return found;
}

export const emptyFit = (): GpuFit => ({ gpu_index: 0, fits: false, warm: false, free_mb: 0, free_after_evict_mb: 0, total_mb: 0, utilization: 0 });
