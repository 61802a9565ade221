/**
 * Turns what the farm client answers (status, job records) into the dashboard's compact rows
 * and aggregates. Pure functions: the hub (feed.ts) calls them once per poll, not once per
 * open dashboard.
 */
import type { JobRecord } from "../../core/job.ts";
import type { GalleryItem, GpuCell, NodeRow, QueueRow, RecentRow, RunningRow, Totals } from "./protocol.ts";

type Obj = Record<string, unknown>;

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const str = (v: unknown, d = ""): string => (typeof v === "string" ? v : d);
const obj = (v: unknown): Obj => (v && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** One node of `farm.status().nodes` (coordinator NodeStatus: the agent's report nested). */
export function nodeRow(n: Obj): NodeRow {
  const report = obj(n.report);
  const gpus: GpuCell[] = arr(report.gpus).map((g0) => {
    const g = obj(g0);
    const util = num(g.utilization_pct);
    const temp = num(g.temperature_c);
    return [
      num(g.index) ?? 0,
      str(g.name, "gpu"),
      Math.round(num(g.memory_used_mb) ?? 0),
      Math.round(num(g.memory_total_mb) ?? 0),
      util === null ? null : Math.round(util),
      temp === null ? null : Math.round(temp),
      g.simulated === true ? 1 : 0,
    ];
  });
  const models = arr(report.resident).map((r0) => {
    const r = obj(r0);
    return [str(r.model_id, "?"), num(r.gpu_index), (num(r.in_use) ?? 0) > 0 ? 1 : 0] as [string, number | null, 0 | 1];
  });
  const blocked: Record<string, string> = {};
  for (const [t, why] of Object.entries(obj(n.blocklisted))) blocked[t] = str(why);
  const unavailable = typeof n.unavailable === "string" ? n.unavailable : undefined;
  const running = Array.isArray(n.running_jobs) ? n.running_jobs.length : (num(n.running_count) ?? 0);
  return {
    id: str(n.node_id),
    state: unavailable ? "unavailable" : n.draining === true ? "draining" : "ready",
    running,
    max: num(report.max_concurrent_jobs) ?? 0,
    gpus,
    models,
    blocked,
    note: unavailable ?? null,
  };
}

export function totalsOf(nodes: readonly NodeRow[], running: number, queue: readonly QueueRow[], counts: Obj): Totals {
  let gpus = 0,
    sim = 0,
    used = 0,
    total = 0,
    utilSum = 0,
    utilN = 0,
    draining = 0,
    unavailable = 0;
  for (const n of nodes) {
    if (n.state === "draining") draining++;
    if (n.state === "unavailable") unavailable++;
    for (const g of n.gpus) {
      gpus++;
      sim += g[6];
      used += g[2];
      total += g[3];
      if (g[4] !== null) {
        utilSum += g[4];
        utilN++;
      }
    }
  }
  // The store counts per type and status; the dashboard shows per status.
  const byStatus: Record<string, number> = {};
  for (const perType of Object.values(counts)) {
    for (const [s, c] of Object.entries(obj(perType))) byStatus[s] = (byStatus[s] ?? 0) + (num(c) ?? 0);
  }
  return {
    nodes: nodes.length,
    draining,
    unavailable,
    gpus,
    simulated_gpus: sim,
    vram_used_mb: used,
    vram_total_mb: total,
    util_pct: utilN ? Math.round(utilSum / utilN) : null,
    running,
    queued: queue.reduce((s, q) => s + q[1], 0),
    counts: byStatus,
  };
}

export function runningRow(
  job: { id: string; type: string; node: string; gpu: number | null; attempts: number },
  live: { progress: number; message: string } | undefined,
  rec: JobRecord | undefined,
): RunningRow {
  const progress = live?.progress ?? rec?.progress ?? 0;
  return {
    id: job.id,
    type: job.type,
    node: job.node,
    gpu: job.gpu,
    attempts: job.attempts,
    progress: Math.max(0, Math.min(100, Math.floor(progress))),
    message: (live?.message ?? rec?.message ?? "").slice(0, 120),
    started_at: rec?.started_at ?? null,
  };
}

export function recentRow(j: JobRecord): RecentRow {
  const started = j.started_at;
  const finished = j.finished_at ?? j.updated_at;
  return {
    id: j.id,
    type: j.type,
    status: j.status as RecentRow["status"],
    duration_s: started ? Math.round((finished - started) / 100) / 10 : null,
    wait_s: started ? Math.round((started - j.created_at) / 100) / 10 : null,
    node: j.node_id ?? null,
    attempts: j.attempts,
    error: j.error ? `${j.error.code}: ${j.error.message}`.slice(0, 200) : null,
    finished_at: finished,
  };
}

const KIND: [RegExp, GalleryItem["kind"]][] = [
  [/\.(png|jpe?g|webp|gif)$/i, "image"],
  [/\.(mp4|webm|mov|mkv)$/i, "video"],
  [/\.(mp3|wav|flac|ogg|m4a)$/i, "audio"],
];

/**
 * Every `/outputs/...` path in a job's result, wherever the plugin put it (image_url,
 * video_url, audio_url, saved_file.path, lists of them): plugins name their fields freely,
 * and the gallery should not need to know each one.
 */
export function outputsOf(job: JobRecord, max = 8): GalleryItem[] {
  const out: GalleryItem[] = [];
  const seen = new Set<string>();
  const walk = (v: unknown, depth: number): void => {
    if (out.length >= max || depth > 6) return;
    if (typeof v === "string") {
      if (v.startsWith("/outputs/") && v.length < 500 && !seen.has(v)) {
        seen.add(v);
        // Signed output URLs carry ?exp=&sig=: the kind is in the path.
        const file = v.split("?")[0]!;
        const kind = KIND.find(([re]) => re.test(file))?.[1] ?? "file";
        out.push({ job: job.id, type: job.type, url: v, kind });
      }
      return;
    }
    if (Array.isArray(v)) for (const x of v.slice(0, 50)) walk(x, depth + 1);
    else if (v && typeof v === "object") for (const x of Object.values(v).slice(0, 50)) walk(x, depth + 1);
  };
  walk(job.result, 0);
  return out;
}

/** Recently finished jobs of several status lists, newest first. */
export function mergeRecent(lists: readonly JobRecord[][], limit: number): JobRecord[] {
  const all = lists.flat();
  all.sort((a, b) => (b.finished_at ?? b.updated_at) - (a.finished_at ?? a.updated_at));
  return all.slice(0, limit);
}
