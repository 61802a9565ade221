/** The chaos bench's agent-kill trace (bench/chaos/kill-trace.ts): steps read from job histories. */
import assert from "node:assert/strict";
import { test } from "vitest";
import type { JobHistoryEntry } from "../../core/job.ts";
import { killTraceTable, traceKill } from "../../bench/chaos/kill-trace.ts";

const KILL = 100_000;
const h = (...e: [number, string, string?, string?][]): JobHistoryEntry[] =>
  e.map(([dt, event, node_id, reason]) => ({ at: KILL + dt, event, ...(node_id ? { node_id } : {}), ...(reason ? { reason } : {}) }) as JobHistoryEntry);

test("an agent kill's trace: re-queue, re-dispatch (survivor or the victim's restarted process), probe, recovery", () => {
  const lost = "node agent-1 was lost (its NATS connection is closed) (attempt 1/3); re-queued";
  const histories = new Map<string, JobHistoryEntry[]>([
    // Held by the victim, re-queued at 1.6 s, sent to a survivor at 1.9 s.
    [
      "job-a",
      h(
        [-3000, "submitted"],
        [-2000, "dispatched", "agent-1"],
        [1600, "requeued", "agent-1", lost],
        [1900, "dispatched", "agent-2"],
        [2900, "completed", "agent-2"],
      ),
    ],
    // Held by the victim, re-queued at 1.7 s, back on its restarted process at 3.2 s (the wait limit).
    [
      "job-b",
      h(
        [-1000, "submitted"],
        [-900, "dispatched", "agent-1"],
        [1700, "requeued", "agent-1", lost],
        [3200, "dispatched", "agent-1"],
        [4000, "completed", "agent-1"],
      ),
    ],
    // Ended before the kill: not held.
    ["job-c", h([-5000, "dispatched", "agent-1"], [-100, "completed", "agent-1"])],
    ["probe", h([40, "submitted"], [300, "dispatched", "agent-3"], [310, "completed", "agent-3"])],
  ]);
  const t = traceKill({ victim: "agent-1", killAt: KILL, probeId: "probe" }, histories);
  assert.equal(t.held, 2);
  assert.equal(t.requeuedMs, 1600);
  assert.equal(t.how, "heartbeats missed, NATS gone");
  assert.equal(t.redispatchedMs, 3200);
  assert.equal(t.backOnVictim, 1);
  assert.equal(t.heldDoneMs, 4000);
  assert.equal(t.probeNode, "agent-3");
  assert.equal(t.recoveryMs, 3200, "the later of the probe done (0.31 s) and the last re-dispatch (3.2 s)");
  const table = killTraceTable([t]);
  assert.match(table, /max 3\.2 s over 1/);
  assert.match(table, /1 of 2 held jobs went back to the victim's restarted process/);
  assert.match(table, /\| 1 \| agent-1 \| 2 \(1 back on it\) \| 1\.60 \|/);
  // A held job never dispatched again: no recovery figure for that kill.
  histories.set("job-d", h([-500, "dispatched", "agent-1"], [1800, "requeued", "agent-1", lost]));
  assert.equal(traceKill({ victim: "agent-1", killAt: KILL, probeId: "probe" }, histories).recoveryMs, null);
});
