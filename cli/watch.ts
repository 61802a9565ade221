/**
 * `farmctl submit --wait`: follow a job live over its WebSocket (/ws/{job_id}) and show its
 * progress as it happens, instead of printing nothing until the end. Progress goes to
 * stderr (on a terminal one line redrawn in place with a progress bar; otherwise a plain
 * line per change, which logs and CI read well), so stdout keeps only the final job (and
 * stays valid JSON with --json). If the WebSocket cannot be opened (a proxy that does not
 * pass upgrades), it falls back to polling GET /jobs/{id}.
 */
import WebSocket from "ws";
import { TERMINAL_STATUSES, type JobStatus } from "../core/job.ts";

export interface WatchOptions {
  base: string;
  key?: string;
  jobId: string;
  /** Where progress lines go (default: stderr). */
  write?: (s: string) => void;
  /** Whether to redraw one line with \r (default: stderr is a terminal). */
  tty?: boolean;
  poll: () => Promise<{ status: string; progress?: number; message?: string | null }>;
}

/** A text progress bar: `[#######.............]`, `width` cells inside the brackets. */
export function progressBar(pct: number, width = 24): string {
  const p = Math.max(0, Math.min(100, Number.isFinite(pct) ? pct : 0));
  const full = Math.round((p / 100) * width);
  return `[${"#".repeat(full)}${".".repeat(width - full)}]`;
}

/** One progress line: with a bar on a terminal, plain (`[ 45%] message`) otherwise. */
export function progressLine(pct: number, message: string, tty: boolean): string {
  const n = `${String(Math.round(pct)).padStart(3)}%`;
  return (tty ? `${progressBar(pct)} ${n} ${message}` : `[${n}] ${message}`).trimEnd();
}

export async function watchJob(o: WatchOptions): Promise<void> {
  const write = o.write ?? ((s: string) => void process.stderr.write(s));
  const tty = o.tty ?? process.stderr.isTTY === true;
  let last = "";
  const show = (pct: number, message: string) => {
    const line = progressLine(pct, message, tty);
    if (line === last) return;
    last = line;
    write(tty ? `\r\x1b[K${line}` : `${line}\n`);
  };
  const done = () => {
    if (tty && last) write("\n");
  };
  try {
    await followSocket(o, show);
  } catch {
    // No WebSocket: poll instead.
    for (;;) {
      const j = await o.poll();
      show(j.progress ?? 0, j.message ?? j.status);
      if (TERMINAL_STATUSES.has(j.status as JobStatus)) break;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  done();
}

function followSocket(o: WatchOptions, show: (pct: number, message: string) => void): Promise<void> {
  const url = `${o.base.replace(/^http/, "ws")}/ws/${encodeURIComponent(o.jobId)}`;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: o.key ? { authorization: `Bearer ${o.key}` } : {} });
    let opened = false;
    let ended = false;
    ws.on("open", () => {
      opened = true;
    });
    ws.on("message", (raw) => {
      let m: { type?: string; progress?: number; message?: string; status?: string; error?: string };
      try {
        m = JSON.parse(String(raw));
      } catch {
        return;
      }
      // A progress message without text (e.g. the running job's first one) says it runs, not a bare "[  0%]".
      if (m.type === "progress") show(m.progress ?? 0, m.message || "running");
      else if (m.type === "status") show(m.progress ?? 0, m.message || m.status || "");
      else if (m.type === "completed") {
        ended = true;
        show(100, "completed");
      } else if (m.type === "error") {
        ended = true;
        show(m.progress ?? 0, `${m.status ?? "failed"}: ${m.error ?? ""}`);
      }
    });
    ws.on("close", () => (ended ? resolve() : opened ? reject(new Error("closed before the job ended")) : reject(new Error("no websocket"))));
    ws.on("error", (err) => {
      if (!opened) reject(err);
    });
  });
}
