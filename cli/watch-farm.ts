/**
 * `farmctl watch`: a live terminal view of the farm (totals, nodes with their GPUs, queue per
 * job type with the oldest wait, running jobs with progress bars, recent jobs). It reads the
 * dashboard's feed (/ws/farm, see api/dashboard/protocol.ts): one socket, a frame per tick,
 * only the rows that fit the terminal are asked for, so it stays light at 1,000 nodes.
 * On a terminal the screen is redrawn in place; piped, a plain block is printed whenever
 * something changed (with --once: the first complete view, then exit).
 */
import WebSocket from "ws";
import type { Frame, Hello, NodeRow, QueueRow, RecentRow, RunningRow, ServerMessage, Totals } from "../api/dashboard/protocol.ts";
import { keysAfter } from "../api/dashboard/keys.ts";
import { table, mib } from "./table.ts";
import { progressBar } from "./watch.ts";

export interface FarmView {
  hello?: Hello;
  totals?: Totals;
  queue: QueueRow[];
  /** Keys of each list's window, as the feed last described them. */
  keys: Record<"nodes" | "running" | "recent", string[]>;
  nodes: { total: number; rows: NodeRow[] };
  running: { total: number; rows: RunningRow[] };
  recent: { total: number; rows: RecentRow[] };
  problem?: string | null;
  at?: number;
}

export const emptyView = (): FarmView => ({
  queue: [],
  keys: { nodes: [], running: [], recent: [] },
  nodes: { total: 0, rows: [] },
  running: { total: 0, rows: [] },
  recent: { total: 0, rows: [] },
});

/**
 * Folds a feed frame into the view: totals come as changed fields; a list section gives its
 * keys (or how they follow from the last ones) and only new rows (whole) or changed ones (patches).
 */
export function applyFrame(v: FarmView, f: Frame): void {
  v.at = f.at;
  if (f.totals) v.totals = { ...v.totals, ...f.totals } as Totals;
  if (f.queue) v.queue = f.queue;
  if (f.problem !== undefined) v.problem = f.problem;
  for (const name of ["nodes", "running", "recent"] as const) {
    const s = f[name];
    if (!s) continue;
    const have = new Map<string, object>((v[name].rows as { id: string }[]).map((r) => [r.id, r]));
    for (const r of s.rows) have.set(r.id, { ...have.get(r.id), ...r });
    v.keys[name] = keysAfter(v.keys[name], s);
    (v[name] as { total: number; rows: unknown[] }) = { total: s.total, rows: v.keys[name].map((k) => have.get(k)).filter((r) => r !== undefined) };
  }
}

const dur = (s: number | null) =>
  s === null
    ? "-"
    : s < 60
      ? `${Math.round(s)}s`
      : s < 3600
        ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, "0")}s`
        : `${Math.floor(s / 3600)}h${String(Math.round((s % 3600) / 60)).padStart(2, "0")}m`;

function gpus(n: NodeRow): string {
  if (n.gpus.length === 0) return "cpu only";
  return n.gpus
    .map(
      ([i, , used, total, util, temp, sim]) =>
        `gpu${i}${sim ? "(sim)" : ""} ${progressBar(total ? (used / total) * 100 : 0, 8)} ${mib(used)}/${mib(total)} ${util === null ? "n/a" : `${util}%`}${temp === null ? "" : ` ${temp}C`}`,
    )
    .join("  ");
}

export function renderFarmView(v: FarmView, width = Number.POSITIVE_INFINITY): string {
  const t = v.totals;
  const lines: string[] = [];
  const when = v.at ? new Date(v.at).toISOString().slice(11, 19) : "-";
  if (t) {
    lines.push(
      `FARM ${when}  nodes ${t.nodes}${t.draining ? ` (${t.draining} draining)` : ""}${t.unavailable ? ` (${t.unavailable} unavailable)` : ""}  GPUs ${t.gpus}${t.simulated_gpus ? ` (${t.simulated_gpus} simulated)` : ""}  VRAM ${mib(t.vram_used_mb)}/${mib(t.vram_total_mb)}  util ${t.util_pct === null ? "n/a" : `${t.util_pct}%`}  running ${t.running}  queued ${t.queued}  completed ${t.counts.completed ?? 0}  failed ${t.counts.failed ?? 0}`,
    );
  }
  if (v.problem) lines.push(`! ${v.problem}`);
  lines.push("", `NODES (${v.nodes.total}${v.nodes.rows.length < v.nodes.total ? `, first ${v.nodes.rows.length} shown` : ""})`);
  lines.push(
    v.nodes.rows.length
      ? table(
          ["NODE", "STATE", "JOBS", "GPUS (vram used/total, util, temp)", "MODELS"],
          v.nodes.rows.map((n) => [
            n.id,
            n.state + (Object.keys(n.blocked).length ? " blocklisted" : ""),
            `${n.running}/${n.max}`,
            gpus(n),
            n.models.map((m) => m[0]).join(","),
          ]),
          width,
        )
      : "  none",
  );
  lines.push("", "QUEUE");
  const since = (t: number | null) => (t && v.at ? Math.max(0, (v.at - t) / 1000) : null);
  lines.push(
    v.queue.length
      ? table(
          ["JOB TYPE", "PENDING", "OLDEST WAIT"],
          v.queue.map(([type, n, oldest]) => [type, n, dur(since(oldest))]),
          width,
        )
      : "  empty",
  );
  lines.push("", `RUNNING (${v.running.total})`);
  lines.push(
    v.running.rows.length
      ? table(
          ["JOB", "TYPE", "NODE", "PROGRESS", "FOR"],
          v.running.rows.map((r) => [
            r.id,
            r.type,
            `${r.node}${r.gpu !== null ? `/gpu${r.gpu}` : ""}`,
            `${progressBar(r.progress, 20)} ${String(r.progress).padStart(3)}% ${r.message}`.trimEnd(),
            dur(since(r.started_at)),
          ]),
          width,
        )
      : "  none",
  );
  lines.push("", `RECENT (${v.recent.total})`);
  lines.push(
    v.recent.rows.length
      ? table(
          ["JOB", "TYPE", "STATUS", "RAN", "WAITED", "NODE", "TRIES", "ERROR"],
          v.recent.rows.map((r) => [r.id, r.type, r.status, dur(r.duration_s), dur(r.wait_s), r.node, r.attempts, r.error ?? ""]),
          width,
        )
      : "  none",
  );
  return lines.join("\n");
}

export interface WatchFarmOptions {
  base: string;
  key?: string;
  once?: boolean;
  /** Stops the watch (tests; the CLI stops on SIGINT). */
  signal?: AbortSignal;
  out?: NodeJS.WriteStream | { write(s: string): boolean; isTTY?: boolean; columns?: number; rows?: number };
}

/** Runs until the socket closes or SIGINT (or, with once, after the first view). Resolves to the exit code. */
export function watchFarm(o: WatchFarmOptions): Promise<number> {
  const out = o.out ?? process.stdout;
  const tty = out.isTTY === true && !o.once;
  const rows = tty ? (out.rows ?? 40) : 60;
  const url = `${o.base.replace(/^http/, "ws")}/ws/farm`;
  const view = emptyView();
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers: o.key ? { authorization: `Bearer ${o.key}` } : {} });
    let last = "";
    let done = false;
    const finish = (code: number) => {
      if (done) return;
      done = true;
      process.off("SIGINT", onInt);
      if (tty) out.write("\x1b[?25h\x1b[?1049l"); // cursor back, leave the alternate screen
      ws.close();
      resolve(code);
    };
    const onInt = () => finish(0);
    process.on("SIGINT", onInt);
    o.signal?.addEventListener("abort", onInt, { once: true });
    ws.on("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d));
      res.on("end", () => {
        let msg = body;
        try {
          msg = (JSON.parse(body) as { message?: string }).message ?? body;
        } catch {
          /* raw */
        }
        process.stderr.write(`farmctl watch: ${res.statusCode} ${msg}\n`);
        finish(1);
      });
    });
    ws.on("error", (err) => {
      process.stderr.write(`farmctl watch: ${err.message}\n`);
      finish(1);
    });
    ws.on("close", () => finish(done ? 0 : 1));
    ws.on("open", () => {
      if (tty) out.write("\x1b[?1049h\x1b[?25l"); // alternate screen, no cursor: the view redraws in place
      // Rows for the lists: what the terminal can show (nodes get the most).
      const nodeRows = Math.max(3, Math.floor((rows - 20) / 2));
      ws.send(JSON.stringify({ t: "view", view: { nodes: [0, nodeRows], running: [0, Math.max(3, Math.floor((rows - 20) / 3))], recent: [0, tty ? 5 : 10] } }));
    });
    ws.on("message", (raw) => {
      let m: ServerMessage;
      try {
        m = JSON.parse(String(raw)) as ServerMessage;
      } catch {
        return;
      }
      if (m.t === "hello") {
        view.hello = m;
        return;
      }
      applyFrame(view, m);
      if (!view.totals) return;
      const text = renderFarmView(view, tty ? (out.columns ?? 120) : Number.POSITIVE_INFINITY);
      if (tty) out.write(`\x1b[H\x1b[2J${text}\n`);
      else if (text !== last) out.write(`${text}\n\n`);
      last = text;
      if (o.once) finish(0);
    });
  });
}
