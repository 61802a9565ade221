/**
 * `farmctl models`: every model the farm could offer, per node — offered, or absent and why.
 * The catalog (models/*.yaml, read from this checkout) says which models exist and what they
 * need; each node's heartbeat (GET /api/v1/farm/nodes) says what it offers now
 * (`report.models`) and why a model its plugins declare is absent (`report.unavailable_models`:
 * missing weight files, a ComfyUI instance that lacks them or is down). Models a node offers
 * that the catalog does not list (diag, plugin-only models) are listed too.
 */
import { catalogModels, type CatalogModel } from "../models/catalog.ts";
import { table, mib } from "./table.ts";

interface NodeReportV {
  models?: Record<string, string[]>;
  model_vram?: Record<string, number>;
  unavailable_models?: { plugin: string; model_id: string; missing: string[] }[];
}
interface NodeV {
  node_id: string;
  report?: NodeReportV;
}

export interface ModelRow {
  model: string;
  runtime: string;
  job_types: string[];
  vram_mb: number | null;
  node: string | null;
  state: "offered" | "absent";
  why: string;
  license?: string;
}

/** One row per (model, node); a catalog model no node knows gets one row saying so. */
export function modelRows(nodes: readonly NodeV[], catalog: readonly (CatalogModel & { family?: string })[] = catalogModels()): ModelRow[] {
  const rows: ModelRow[] = [];
  const known = new Map(catalog.map((m) => [m.id, m]));
  const ids = new Set<string>(catalog.map((m) => m.id));
  for (const n of nodes) {
    for (const list of Object.values(n.report?.models ?? {})) for (const id of list) ids.add(id);
    for (const u of n.report?.unavailable_models ?? []) ids.add(u.model_id);
  }
  for (const id of [...ids].sort()) {
    const c = known.get(id);
    const base = { model: id, runtime: c?.runtime ?? "-", job_types: c?.job_types ?? [], vram_mb: c?.vram_mb ?? null, license: c?.license };
    let seen = false;
    for (const n of nodes) {
      const r = n.report ?? {};
      const types = Object.entries(r.models ?? {})
        .filter(([, list]) => list.includes(id))
        .map(([t]) => t);
      const absent = (r.unavailable_models ?? []).filter((u) => u.model_id === id);
      if (types.length > 0) {
        seen = true;
        rows.push({ ...base, job_types: c?.job_types ?? types, vram_mb: r.model_vram?.[id] ?? base.vram_mb, node: n.node_id, state: "offered", why: "" });
      } else if (absent.length > 0) {
        seen = true;
        rows.push({ ...base, node: n.node_id, state: "absent", why: absent.map((u) => `${u.plugin}: ${u.missing.join("; ")}`).join(" | ") });
      }
    }
    if (!seen)
      rows.push({
        ...base,
        node: null,
        state: "absent",
        why: nodes.length === 0 ? "no live node" : "no live node has a plugin for it (agent.plugins, or its plugin is disabled)",
      });
  }
  return rows;
}

export function renderModels(rows: readonly ModelRow[]): string {
  return table(
    ["MODEL", "RUNTIME", "JOB TYPES", "VRAM", "NODE", "STATE", "WHY ABSENT"],
    rows.map((r) => [
      r.model,
      r.runtime,
      r.job_types.join(","),
      r.vram_mb === null ? "-" : r.vram_mb === 0 ? "cpu" : mib(r.vram_mb),
      r.node ?? "-",
      r.state,
      r.why || "-",
    ]),
  );
}
