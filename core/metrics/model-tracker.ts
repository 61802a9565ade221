/**
 * Model loads and evictions, read from the resident-model lists agents send in every
 * heartbeat: a (GPU, model) pair that appears, or reappears with a new `loaded_at`, is a
 * load (its `load_ms` is the cold-load time); one that disappears is an eviction. A model
 * loaded and evicted between two heartbeats (agent.telemetry_interval_ms, 2 s by default)
 * is not seen; that is rare for models that take seconds to load, and cheaper than a
 * second telemetry channel from every agent.
 */
import type { NodeReport, ResidentModel } from "../telemetry.ts";

export interface ModelChange {
  node_id: string;
  model_id: string;
  kind: "load" | "eviction";
  /** Cold-load time of a load, in ms. */
  load_ms?: number;
}

const keyOf = (m: ResidentModel) => `${m.gpu_index ?? "cpu"}\u0000${m.model_id}`;

export class ModelTracker {
  /** node id -> (gpu, model) -> loaded_at */
  private readonly seen = new Map<string, Map<string, number>>();

  /** Compare a heartbeat with the node's previous one; the first heartbeat of a node is a baseline, not a burst of loads. */
  observe(report: Pick<NodeReport, "node_id" | "resident">): ModelChange[] {
    if (typeof report?.node_id !== "string" || !Array.isArray(report.resident)) return [];
    const prev = this.seen.get(report.node_id);
    const now = new Map<string, number>();
    const changes: ModelChange[] = [];
    for (const m of report.resident) {
      if (!m || typeof m.model_id !== "string") continue;
      const k = keyOf(m);
      now.set(k, m.loaded_at);
      if (prev && prev.get(k) !== m.loaded_at) {
        if (prev.has(k)) changes.push({ node_id: report.node_id, model_id: m.model_id, kind: "eviction" });
        changes.push({ node_id: report.node_id, model_id: m.model_id, kind: "load", load_ms: m.load_ms });
      }
    }
    if (prev) {
      for (const k of prev.keys()) {
        if (!now.has(k)) changes.push({ node_id: report.node_id, model_id: k.slice(k.indexOf("\u0000") + 1), kind: "eviction" });
      }
    }
    this.seen.set(report.node_id, now);
    return changes;
  }

  /** Forget nodes that are no longer in the farm (their next heartbeat, if any, is a new baseline). */
  retain(nodeIds: ReadonlySet<string>): void {
    for (const id of this.seen.keys()) if (!nodeIds.has(id)) this.seen.delete(id);
  }
}
