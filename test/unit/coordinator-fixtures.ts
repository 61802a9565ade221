/** Node reports and node views for coordinator tests and the scheduler bench. */
import type { GpuInfo, NodeReport, ResidentModel } from "../../core/telemetry.ts";
import type { NodeView } from "../../coordinator/node-view.ts";

export interface NodeSpec {
  id: string;
  types?: string[];
  /** job type -> models */
  models?: Record<string, string[]>;
  model_vram?: Record<string, number>;
  gpus?: { total: number; used?: number; util?: number }[];
  resident?: { model: string; gpu: number; vram: number; in_use?: number }[];
  max?: number;
  cpu_load?: number;
  draining?: boolean;
  /** job type -> its advertised params schema (the coordinator checks submissions against it). */
  param_schemas?: NodeReport["param_schemas"];
}

export function report(s: NodeSpec): NodeReport {
  const gpus: GpuInfo[] = (s.gpus ?? []).map((g, i) => ({
    index: i,
    uuid: `GPU-${s.id}-${i}`,
    name: "Sim GPU",
    memory_total_mb: g.total,
    memory_used_mb: g.used ?? 0,
    utilization_pct: g.util ?? 0,
    temperature_c: 40,
    simulated: true,
  }));
  const resident: ResidentModel[] = (s.resident ?? []).map((r) => ({
    model_id: r.model,
    gpu_index: r.gpu,
    vram_mb: r.vram,
    in_use: r.in_use ?? 0,
    loaded_at: 0,
    last_used_at: 0,
    load_ms: 1000,
  }));
  return {
    node_id: s.id,
    hostname: s.id,
    started_at: 0,
    draining: s.draining ?? false,
    job_types: s.types ?? ["diag.echo"],
    models: s.models ?? {},
    model_vram: s.model_vram ?? {},
    gpus,
    resident,
    running_jobs: [],
    max_concurrent_jobs: s.max ?? 2,
    cpu_load: s.cpu_load ?? 0,
    reported_at: 0,
    ...(s.param_schemas ? { param_schemas: s.param_schemas } : {}),
  };
}

export function view(s: NodeSpec, over: Partial<NodeView> = {}): NodeView {
  return { report: report(s), draining: false, blocklisted: new Map(), running: 0, ...over };
}
