/**
 * Where an agent kill's recovery time goes (issue 15): the chaos probe's figure ("a probe job
 * submitted right after the fault completes") mixes two things, the farm noticing the death
 * and the probe waiting for a free slot behind other jobs. This splits one kill into its
 * steps, all read from the jobs' histories (the coordinator's clock) after the run:
 *   kill -> the dead agent's first job re-queued (the coordinator declared it gone; null when
 *   it held no job) -> the last of its jobs dispatched again (its work runs elsewhere) ->
 *   the last of them completed; and the probe: accepted -> dispatched -> completed.
 * Recovery for this fault, as the issue means it, is "the farm serves again and the dead
 * agent's work runs again": max(probe completed, last re-dispatch), both from the kill. A
 * re-dispatch may go to the victim's restarted process (same node id) once the job's
 * coordinator.failed_node_wait_ms is over and the survivors are still busy; counted apart.
 */
import type { JobHistoryEntry } from "../../core/job.ts";

export interface KillMark {
  victim: string;
  killAt: number;
  probeId: string | null;
}

export interface KillTrace {
  victim: string;
  /** Jobs the victim held at the kill (dispatched to it, not ended before the kill). */
  held: number;
  /** ms from the kill: first held job re-queued (null: none held). */
  requeuedMs: number | null;
  /** How the coordinator learnt it: the re-queue's reason, shortened. */
  how: string | null;
  /** ms from the kill: last held job dispatched again. */
  redispatchedMs: number | null;
  /** Held jobs dispatched again to the victim's node id (its restarted process). */
  backOnVictim: number;
  /** ms from the kill: last held job completed. */
  heldDoneMs: number | null;
  /** ms from the kill: probe accepted, dispatched (and where), completed. */
  probeAcceptedMs: number | null;
  probeDispatchedMs: number | null;
  probeNode: string | null;
  probeDoneMs: number | null;
  /** Recovery as the issue defines it: the farm served the probe and the victim's jobs run elsewhere. */
  recoveryMs: number | null;
  /** The held jobs' and the probe's histories from the kill on, one line each (for reading a slow kill). */
  detail: string[];
}

const firstAfter = (h: JobHistoryEntry[], from: number, pred: (e: JobHistoryEntry) => boolean) => h.find((e, i) => i >= from && pred(e));

function shortReason(r: string | undefined): string {
  if (!r) return "?";
  if (r.includes("first report to this leader")) return "not held at the new leader's first report";
  if (r.includes("restarted")) return "restart seen";
  if (r.includes("NATS connection is closed")) return "heartbeats missed, NATS gone";
  if (r.includes("lease expired")) return "lease expired";
  if (r.includes("was lost")) return "lost";
  return r.slice(0, 40);
}

export function traceKill(mark: KillMark, histories: Map<string, JobHistoryEntry[]>): KillTrace {
  const t = mark.killAt;
  const rel = (at: number | undefined) => (at === undefined ? null : at - t);
  let held = 0;
  let requeued: number | undefined;
  let how: string | null = null;
  let redispatched: number | undefined;
  let heldDone: number | undefined;
  let allRedispatched = true;
  let backOnVictim = 0;
  const line = (id: string, h: JobHistoryEntry[]) =>
    `${id.slice(0, 8)}: ${h
      .filter((e) => e.at >= t - 5000)
      .map(
        (e) =>
          `${((e.at - t) / 1000).toFixed(2)} ${e.event}${e.node_id ? `@${e.node_id}` : ""}${e.reason && e.event !== "dispatched" ? ` "${e.reason.slice(0, 90)}"` : ""}`,
      )
      .join("; ")}`;
  const detail: string[] = [];
  for (const [id, h] of histories) {
    if (id === mark.probeId) continue;
    // The dispatch to the victim that was live at the kill.
    let i = -1;
    h.forEach((e, k) => {
      if (e.event === "dispatched" && e.node_id === mark.victim && e.at <= t) i = k;
    });
    if (i < 0) continue;
    const end = firstAfter(h, i + 1, (e) => e.event !== "dispatched" && e.event !== "progress");
    if (!end || end.at < t) continue;
    held++;
    detail.push(line(id, h));
    if (end.event === "requeued") {
      if (requeued === undefined || end.at < requeued) {
        requeued = end.at;
        how = shortReason(end.reason);
      }
      const again = firstAfter(h, h.indexOf(end) + 1, (e) => e.event === "dispatched");
      if (again) {
        redispatched = Math.max(redispatched ?? 0, again.at);
        if (again.node_id === mark.victim) backOnVictim++;
      } else allRedispatched = false;
    }
    const done = firstAfter(h, i + 1, (e) => e.event === "completed");
    if (done) heldDone = Math.max(heldDone ?? 0, done.at);
  }
  const ph = mark.probeId ? (histories.get(mark.probeId) ?? []) : [];
  if (mark.probeId) detail.push(`probe ${line(mark.probeId, ph)}`);
  const pAcc = ph.find((e) => e.event === "submitted")?.at;
  const pDisp = [...ph].reverse().find((e) => e.event === "dispatched");
  const pDone = ph.find((e) => e.event === "completed")?.at;
  const probeDoneMs = rel(pDone);
  const redispatchedMs = rel(redispatched);
  const recoveryMs = probeDoneMs === null || !allRedispatched ? null : Math.max(probeDoneMs, redispatchedMs ?? 0);
  return {
    victim: mark.victim,
    held,
    requeuedMs: rel(requeued),
    how,
    redispatchedMs,
    backOnVictim,
    heldDoneMs: rel(heldDone),
    probeAcceptedMs: rel(pAcc),
    probeDispatchedMs: rel(pDisp?.at),
    probeNode: pDisp?.node_id ?? null,
    probeDoneMs,
    recoveryMs,
    detail,
  };
}

/** "median m s, max x s over n" of the non-null values (null: a step that never came counts as missing). */
function spread(values: (number | null)[]): string {
  const v = values.filter((x): x is number => x !== null).sort((a, b) => a - b);
  if (v.length === 0) return "none";
  const missing = values.length - v.length;
  return `median ${(v[Math.floor((v.length - 1) / 2)]! / 1000).toFixed(1)} s, max ${(v[v.length - 1]! / 1000).toFixed(1)} s over ${v.length}${missing ? ` (${missing} without)` : ""}`;
}

export function killTraceTable(traces: KillTrace[]): string {
  const s = (ms: number | null) => (ms === null ? "-" : (ms / 1000).toFixed(2));
  const held = traces.filter((k) => k.held > 0);
  const wait = held.map((k) => (k.redispatchedMs === null || k.requeuedMs === null ? null : k.redispatchedMs - k.requeuedMs));
  return [
    `Recovery (the probe served and the dead agent's jobs dispatched again; target <= 5 s): ${spread(traces.map((k) => k.recoveryMs))}.`,
    `Its parts: the dead agent's first job re-queued ${spread(held.map((k) => k.requeuedMs))} after the kill;` +
      ` from that re-queue to its last job dispatched again (a free slot on a survivor; a re-queued job avoids the node it was lost on, for at most coordinator.failed_node_wait_ms while the survivors are busy, then the victim's restarted process may take it) ${spread(wait)};` +
      ` ${held.reduce((n, k) => n + k.backOnVictim, 0)} of ${held.reduce((n, k) => n + k.held, 0)} held jobs went back to the victim's restarted process;` +
      ` the probe completed ${spread(traces.map((k) => k.probeDoneMs))} after the kill.`,
    "",
    "| # | victim | jobs held | first re-queued (s) | how | last re-dispatched (s) | held jobs done (s) | probe accepted / dispatched / done (s) | probe node | recovery (s) |",
    "|---|---|---|---|---|---|---|---|---|---|",
    ...traces.map(
      (k, i) =>
        `| ${i + 1} | ${k.victim} | ${k.held}${k.backOnVictim > 0 ? ` (${k.backOnVictim} back on it)` : ""} | ${s(k.requeuedMs)} | ${k.how ?? "-"} | ${s(k.redispatchedMs)} | ${s(k.heldDoneMs)} | ${s(k.probeAcceptedMs)} / ${s(k.probeDispatchedMs)} / ${s(k.probeDoneMs)} | ${k.probeNode ?? "-"} | ${s(k.recoveryMs)} |`,
    ),
  ].join("\n");
}
