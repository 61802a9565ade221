/**
 * The model manager: which models are resident in which GPU's VRAM, and the per-GPU
 * VRAM budget that decides what can be loaded.
 *
 * - `acquire` loads a model on demand through its plugin's `load()`; when the GPU has
 *   too little free VRAM it evicts idle resident models (in_use == 0), least recently
 *   used first, until the new one fits. A model in use is never evicted. If it still
 *   cannot fit, it throws GPU_ERROR (retryable: it may fit later or on another node)
 *   with the numbers, and evicts nothing.
 * - Concurrent acquires of the same model on the same GPU share one load.
 * - Free VRAM on a real GPU = memory_total - memory_used of the latest probe, minus what
 *   we reserved for loads since that probe (and plus what we evicted since), so a model
 *   loaded between probes is not counted twice nor forgotten. On a simulated GPU (no
 *   driver) free VRAM = vram - sum of resident models on it.
 *
 * Models are keyed by (owner plugin, model id, GPU) so two plugins that happen to declare
 * the same model id never share a handle.
 */
import type { ModelSpec } from "../core/plugin-contract.ts";
import type { GpuInfo, ResidentModel } from "../core/telemetry.ts";
import type { Clock } from "../core/clock.ts";
import { systemClock } from "../core/clock.ts";
import type { Logger } from "../core/logger.ts";
import { silentLogger } from "../core/logger.ts";
import { FarmError } from "../core/errors.ts";

/** How the manager loads and unloads one plugin's models (the agent adapts Plugin to it). */
export interface ModelLoader {
  /** Plugin name: part of the residency key. */
  readonly owner: string;
  load(spec: ModelSpec, gpuIndex: number | null): Promise<unknown>;
  unload?(spec: ModelSpec, handle: unknown, gpuIndex: number | null): Promise<void>;
}

/** What `acquire` returns; give it back with `release`. */
export interface ModelHandle {
  readonly model_id: string;
  readonly gpu_index: number | null;
  /** What the plugin's load() returned (passed to the task as ctx.model). */
  readonly value: unknown;
}

interface Entry {
  key: string;
  loader: ModelLoader;
  spec: ModelSpec;
  gpu_index: number | null;
  loading: Promise<unknown> | null;
  value: unknown;
  in_use: number;
  loaded_at: number;
  last_used_at: number;
  load_ms: number;
}

interface InternalHandle extends ModelHandle {
  entry: Entry;
  released: boolean;
}

export class ModelManager {
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly entries = new Map<string, Entry>();
  private gpuList: GpuInfo[] = [];
  /** Real GPUs: MiB reserved (+) or freed (-) by us since the latest probe. */
  private readonly delta = new Map<number, number>();
  /** Real GPUs: MiB of evicted models whose unload() has not finished yet. */
  private readonly unloading = new Map<number, number>();

  constructor(opts: { clock?: Clock; logger?: Logger } = {}) {
    this.clock = opts.clock ?? systemClock;
    this.logger = opts.logger ?? silentLogger;
  }

  /** Feed the latest probe. Resets the since-probe bookkeeping for real GPUs. */
  updateGpus(gpus: readonly GpuInfo[]): void {
    this.gpuList = gpus.map((g) => ({ ...g }));
    this.delta.clear();
    for (const g of this.gpuList) {
      if (g.simulated) continue;
      // A load still in flight may not show in the probe yet; an unload in flight still does.
      const inFlight = [...this.entries.values()].filter((e) => e.gpu_index === g.index && e.loading !== null).reduce((s, e) => s + e.spec.vram_mb, 0);
      this.delta.set(g.index, inFlight - (this.unloading.get(g.index) ?? 0));
    }
  }

  gpus(): GpuInfo[] {
    return this.gpuList.map((g) => ({ ...g }));
  }

  /** MiB held by resident (or loading) models on a GPU. */
  usedMb(gpuIndex: number): number {
    let sum = 0;
    for (const e of this.entries.values()) if (e.gpu_index === gpuIndex) sum += e.spec.vram_mb;
    return sum;
  }

  /** Free MiB on a GPU right now by our accounting (see the file comment). */
  freeMb(gpuIndex: number): number {
    const g = this.gpuList.find((x) => x.index === gpuIndex);
    if (!g) return 0;
    if (g.simulated) return g.memory_total_mb - this.usedMb(gpuIndex);
    return g.memory_total_mb - g.memory_used_mb - (this.delta.get(gpuIndex) ?? 0);
  }

  resident(): ResidentModel[] {
    return [...this.entries.values()].map((e) => ({
      model_id: e.spec.id,
      gpu_index: e.gpu_index,
      vram_mb: e.spec.vram_mb,
      in_use: e.in_use,
      loaded_at: e.loaded_at,
      last_used_at: e.last_used_at,
      load_ms: e.load_ms,
    }));
  }

  /**
   * Get a loaded model on a GPU, loading it (and evicting idle models) when needed.
   * gpuIndex null means CPU for models with vram_mb 0 or cpu_fallback; for a model that
   * needs VRAM, null lets the manager pick this node's best GPU.
   */
  async acquire(spec: ModelSpec, gpuIndex: number | null, loader: ModelLoader): Promise<ModelHandle> {
    const gpu = this.placeGpu(spec, gpuIndex, loader.owner);
    const key = `${loader.owner}/${spec.id}@${gpu ?? "cpu"}`;
    const now = this.clock.now();
    let entry = this.entries.get(key);
    if (!entry) {
      const evicted = gpu === null ? [] : this.makeRoom(spec, gpu);
      entry = { key, loader, spec, gpu_index: gpu, loading: null, value: undefined, in_use: 0, loaded_at: now, last_used_at: now, load_ms: 0 };
      this.entries.set(key, entry);
      if (gpu !== null) this.addDelta(gpu, spec.vram_mb);
      entry.loading = this.load(entry, evicted);
    }
    entry.in_use += 1;
    entry.last_used_at = now;
    if (entry.loading) {
      try {
        await entry.loading;
      } catch (err) {
        entry.in_use -= 1;
        throw err;
      }
    }
    const handle: InternalHandle = { model_id: spec.id, gpu_index: gpu, value: entry.value, entry, released: false };
    return handle;
  }

  /** Give a handle back. Idempotent. The model stays resident (idle) until evicted. */
  release(handle: ModelHandle): void {
    const h = handle as InternalHandle;
    if (h.released || !h.entry) return;
    h.released = true;
    h.entry.in_use = Math.max(0, h.entry.in_use - 1);
    h.entry.last_used_at = this.clock.now();
  }

  /** Unload every idle model (agent stop). Models in use are left alone. */
  async unloadIdle(): Promise<void> {
    const idle = [...this.entries.values()].filter((e) => e.in_use === 0 && !e.loading);
    for (const e of idle) this.entries.delete(e.key);
    await Promise.all(idle.map((e) => this.unload(e)));
  }

  private placeGpu(spec: ModelSpec, gpuIndex: number | null, owner: string): number | null {
    if (gpuIndex !== null) {
      if (!this.gpuList.some((g) => g.index === gpuIndex)) {
        throw new FarmError("GPU_ERROR", `GPU ${gpuIndex} is not present on this node (GPUs: ${this.gpuList.map((g) => g.index).join(", ") || "none"})`, {
          field: "gpu_index",
          constraint: "present",
        });
      }
      return gpuIndex;
    }
    if (spec.vram_mb <= 0 || spec.cpu_fallback) return null;
    if (this.gpuList.length === 0) {
      throw new FarmError("GPU_ERROR", `model '${spec.id}' needs ${spec.vram_mb} MiB of VRAM and this node has no GPU`, {
        model: spec.id,
        vram_mb: spec.vram_mb,
      });
    }
    // Prefer a GPU where it is already resident, then the one with the most room.
    for (const g of this.gpuList) if (this.entries.has(`${owner}/${spec.id}@${g.index}`)) return g.index;
    const room = (i: number) => this.freeMb(i) + this.idleOn(i).reduce((s, e) => s + e.spec.vram_mb, 0);
    return [...this.gpuList].sort((a, b) => room(b.index) - room(a.index))[0]!.index;
  }

  private idleOn(gpu: number): Entry[] {
    return [...this.entries.values()].filter((e) => e.gpu_index === gpu && e.in_use === 0 && !e.loading).sort((a, b) => a.last_used_at - b.last_used_at);
  }

  /** Choose and detach LRU idle models until `spec` fits; throws (evicting nothing) when it cannot. */
  private makeRoom(spec: ModelSpec, gpu: number): Entry[] {
    const free = this.freeMb(gpu);
    if (free >= spec.vram_mb) return [];
    const idle = this.idleOn(gpu);
    const reclaimable = idle.reduce((s, e) => s + e.spec.vram_mb, 0);
    if (free + reclaimable < spec.vram_mb) {
      const g = this.gpuList.find((x) => x.index === gpu)!;
      const inUse = [...this.entries.values()]
        .filter((e) => e.gpu_index === gpu && (e.in_use > 0 || e.loading !== null))
        .map((e) => `${e.spec.id} (${e.spec.vram_mb} MiB)`);
      throw new FarmError(
        "GPU_ERROR",
        `not enough VRAM on GPU ${gpu} (${g.name}) for model '${spec.id}': needs ${spec.vram_mb} MiB, ${Math.max(0, free)} MiB free of ${g.memory_total_mb} MiB, ` +
          `${reclaimable} MiB reclaimable from idle models; in use: ${inUse.join(", ") || "none"}`,
        { model: spec.id, gpu_index: gpu, needed_mb: spec.vram_mb, free_mb: Math.max(0, free), total_mb: g.memory_total_mb, reclaimable_mb: reclaimable },
      );
    }
    const evicted: Entry[] = [];
    let have = free;
    for (const e of idle) {
      if (have >= spec.vram_mb) break;
      this.entries.delete(e.key);
      this.addDelta(gpu, -e.spec.vram_mb);
      have += e.spec.vram_mb;
      evicted.push(e);
      this.logger.info("evicting idle model", { model: e.spec.id, gpu_index: gpu, vram_mb: e.spec.vram_mb, for_model: spec.id });
    }
    return evicted;
  }

  private addDelta(gpu: number, mb: number): void {
    if (this.gpuList.find((g) => g.index === gpu)?.simulated) return;
    this.delta.set(gpu, (this.delta.get(gpu) ?? 0) + mb);
  }

  private async load(entry: Entry, evicted: Entry[]): Promise<unknown> {
    // Free VRAM physically before loading into it.
    await Promise.all(evicted.map((e) => this.unload(e)));
    const t0 = Date.now();
    try {
      const value = await entry.loader.load(entry.spec, entry.gpu_index);
      entry.value = value;
      entry.load_ms = Date.now() - t0;
      entry.loaded_at = this.clock.now();
      this.logger.info("model loaded", { model: entry.spec.id, gpu_index: entry.gpu_index, load_ms: entry.load_ms });
      return value;
    } catch (err) {
      if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
      if (entry.gpu_index !== null) this.addDelta(entry.gpu_index, -entry.spec.vram_mb);
      this.logger.error("model load failed", { model: entry.spec.id, gpu_index: entry.gpu_index, error: err instanceof Error ? err.message : String(err) });
      throw err;
    } finally {
      entry.loading = null;
    }
  }

  private async unload(e: Entry): Promise<void> {
    const gpu = e.gpu_index;
    const real = gpu !== null && !this.gpuList.find((g) => g.index === gpu)?.simulated;
    if (real) this.unloading.set(gpu, (this.unloading.get(gpu) ?? 0) + e.spec.vram_mb);
    const t0 = Date.now();
    try {
      await e.loader.unload?.(e.spec, e.value, gpu);
      this.logger.info("model unloaded", { model: e.spec.id, gpu_index: gpu, unload_ms: Date.now() - t0 });
    } catch (err) {
      this.logger.error("model unload failed", { model: e.spec.id, gpu_index: gpu, error: err instanceof Error ? err.message : String(err) });
    } finally {
      if (real) this.unloading.set(gpu, (this.unloading.get(gpu) ?? 0) - e.spec.vram_mb);
    }
  }
}
