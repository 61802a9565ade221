/** What agents report about their hardware and state. */

export interface GpuInfo {
  index: number;
  uuid: string;
  name: string;
  memory_total_mb: number;
  memory_used_mb: number;
  /** Utilisation 0..100, null when the driver says [N/A]. */
  utilization_pct: number | null;
  temperature_c: number | null;
  /** True for GPUs declared in config for tests and capacity drills. */
  simulated: boolean;
}

export interface ResidentModel {
  model_id: string;
  gpu_index: number | null;
  vram_mb: number;
  in_use: number;
  loaded_at: number;
  last_used_at: number;
  load_ms: number;
}

/** The capability summary an agent advertises (also in heartbeats). */
export interface NodeReport {
  node_id: string;
  hostname: string;
  started_at: number;
  draining: boolean;
  job_types: string[];
  /** job type -> model ids this node can load for it */
  models: Record<string, string[]>;
  /** model id -> VRAM need (MiB) */
  model_vram: Record<string, number>;
  /** Models that need VRAM but may run on this node's CPU when no GPU of it can hold them (manifest cpu_fallback). */
  model_cpu_fallback?: string[];
  /** job type -> JSON Schema of its params, for the types whose plugin declares one (checked at submit). */
  param_schemas?: Record<string, Record<string, unknown>>;
  /** Models a plugin here declares but cannot run now, and why (missing weights, no live server). */
  unavailable_models?: { plugin: string; model_id: string; missing: string[] }[];
  gpus: GpuInfo[];
  resident: ResidentModel[];
  running_jobs: string[];
  max_concurrent_jobs: number;
  cpu_load: number;
  reported_at: number;
}
