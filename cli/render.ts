/** Human renderings of farmctl's answers. */
import { table, mib, ago } from "./table.ts";

interface Gpu {
  index: number;
  name: string;
  memory_total_mb: number;
  memory_used_mb: number;
  utilization_pct: number | null;
  temperature_c?: number | null;
  simulated?: boolean;
}
interface Resident {
  model_id: string;
  gpu_index: number | null;
  vram_mb: number;
  in_use: number;
}
interface NodeV {
  node_id: string;
  draining?: boolean;
  alive?: boolean;
  gpus?: Gpu[];
  resident?: Resident[];
  running_jobs?: string[];
  max_concurrent_jobs?: number;
  job_types?: string[];
  blocklist?: Record<string, string> | string[];
  blocked_types?: string[];
  reported_at?: number;
}
interface JobV {
  job_id: string;
  type: string;
  status: string;
  progress: number;
  node_id?: string | null;
  created_at: string;
  attempts?: number;
  error?: string | null;
  message?: string | null;
  result?: unknown;
}

/** The coordinator nests the agent's report; flatten it for display. */
function flat(n: NodeV & { report?: NodeV; blocklisted?: Record<string, string> }): NodeV {
  return { ...(n.report ?? {}), ...n, blocklist: n.blocklisted ?? n.blocklist, max_concurrent_jobs: n.report?.max_concurrent_jobs ?? n.max_concurrent_jobs };
}

function gpuLines(n: NodeV): string[] {
  const gpus = n.gpus ?? [];
  if (gpus.length === 0) return ["cpu only"];
  return gpus.map((g) => {
    const models = (n.resident ?? []).filter((r) => r.gpu_index === g.index).map((r) => `${r.model_id}${r.in_use ? "*" : ""}`);
    const util = g.utilization_pct === null || g.utilization_pct === undefined ? "n/a" : `${g.utilization_pct}%`;
    return `gpu${g.index} ${g.name}${g.simulated ? " (simulated)" : ""} ${mib(g.memory_used_mb)}/${mib(g.memory_total_mb)} ${util}${models.length ? ` [${models.join(", ")}]` : ""}`;
  });
}

function blocked(n: NodeV): string {
  const b = n.blocklist ?? {};
  const list = Array.isArray(b) ? b : Object.entries(b).map(([t, why]) => `${t} (${why})`);
  return list.length ? list.join("; ") : "-";
}

export function renderNodes(d: { nodes: NodeV[] }): string {
  const rows = d.nodes
    .map(flat)
    .map((n) => [
      n.node_id,
      n.draining ? "draining" : "ready",
      `${n.running_jobs?.length ?? 0}/${n.max_concurrent_jobs ?? "?"}`,
      (n.job_types ?? []).join(","),
      blocked(n),
    ]);
  return table(["NODE", "STATE", "JOBS", "JOB TYPES", "BLOCKLISTED"], rows);
}

export function renderStatus(d: {
  nodes?: NodeV[];
  running?: JobV[] | { job_id: string; type: string; node_id: string; progress: number }[];
  queue?: Record<string, number>;
  queue_depth?: Record<string, number>;
}): string {
  const nodes = (d.nodes ?? []).map(flat);
  const nodeRows: string[][] = [];
  for (const n of nodes) {
    const lines = gpuLines(n);
    lines.forEach((l, i) =>
      nodeRows.push(
        i === 0 ? [n.node_id, n.draining ? "draining" : "ready", `${n.running_jobs?.length ?? 0}/${n.max_concurrent_jobs ?? "?"}`, l] : ["", "", "", l],
      ),
    );
  }
  const running = (d.running ?? []) as { job_id: string; type: string; node_id?: string | null; progress: number }[];
  const queue = d.queue ?? d.queue_depth ?? {};
  return [
    `NODES (${nodes.length})`,
    nodes.length ? table(["NODE", "STATE", "JOBS", "GPUS (used/total util [resident models, * in use])"], nodeRows) : "  none",
    "",
    `RUNNING (${running.length})`,
    running.length
      ? table(
          ["JOB", "TYPE", "NODE", "PROGRESS"],
          running.map((j) => [j.job_id, j.type, j.node_id ?? "-", `${Math.round(j.progress)}%`]),
        )
      : "  none",
    "",
    "QUEUE",
    Object.keys(queue).length
      ? table(
          ["JOB TYPE", "PENDING"],
          Object.entries(queue).map(([t, n]) => [t, n]),
        )
      : "  empty",
  ].join("\n");
}

export function renderJobs(d: { jobs: JobV[]; total: number }): string {
  return `${table(
    ["JOB", "TYPE", "STATUS", "PROGRESS", "NODE", "AGE", "ERROR"],
    d.jobs.map((j) => [j.job_id, j.type, j.status, `${Math.round(j.progress)}%`, j.node_id ?? "-", ago(j.created_at), j.error ?? ""]),
  )}\n(${d.jobs.length} of ${d.total})`;
}

export function renderJob(j: JobV): string {
  const lines = [
    `job       ${j.job_id}`,
    `type      ${j.type}`,
    `status    ${j.status}${j.message ? ` (${j.message})` : ""}`,
    `progress  ${Math.round(j.progress ?? 0)}%`,
    `node      ${j.node_id ?? "-"}`,
    `attempts  ${j.attempts ?? 0}`,
  ];
  if (j.error) lines.push(`error     ${j.error}`);
  if (j.result) lines.push(`result    ${JSON.stringify(j.result)}`);
  return lines.join("\n");
}

export function renderWhy(d: Record<string, unknown>): string {
  const decision = (d.decision ?? d) as {
    verdict?: string;
    node_id?: string;
    gpu_index?: number | null;
    reasons?: Record<string, string>;
    summary?: string;
    at?: number;
  };
  const lines = [
    `verdict   ${decision.verdict ?? "-"}${decision.node_id ? ` -> ${decision.node_id}${decision.gpu_index !== null && decision.gpu_index !== undefined ? ` gpu${decision.gpu_index}` : ""}` : ""}`,
  ];
  // The one-sentence why (e.g. how long a re-queued job still waits for a node it has not failed on).
  if (decision.summary) lines.push(`summary   ${decision.summary}`);
  const reasons = decision.reasons ?? {};
  if (Object.keys(reasons).length)
    lines.push(
      table(
        ["NODE", "REASON"],
        Object.entries(reasons).map(([n, r]) => [n, r]),
      ),
    );
  const history = (d.history ?? []) as { at: number; event: string; node_id?: string; reason?: string }[];
  if (history.length) {
    lines.push("", "HISTORY");
    lines.push(
      table(
        ["AT", "EVENT", "NODE", "REASON"],
        history.map((h) => [new Date(h.at).toISOString(), h.event, h.node_id ?? "-", h.reason ?? ""]),
      ),
    );
  }
  return lines.join("\n");
}
