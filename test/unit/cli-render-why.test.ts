/** farmctl why's text: the verdict, the decision's one-sentence summary, per-node reasons and the history. */
import assert from "node:assert/strict";
import { test } from "vitest";
import { renderWhy } from "../../cli/render.ts";

test("farmctl why prints the summary of a waiting re-queued job (its wait limit) with the per-node reasons and history", () => {
  const out = renderWhy({
    decision: {
      verdict: "wait",
      gpu_index: null,
      summary: "waiting for a node it has not failed on (1 busy), at most until 2026-12-04T19:00:01.500Z",
      reasons: { a: "job already failed here; waiting for another node", b: "busy: 1/1 jobs running" },
    },
    history: [{ at: Date.UTC(2026, 11, 4, 19), event: "requeued", node_id: "a", reason: "node a was lost (attempt 1/3); re-queued" }],
  });
  const lines = out.split("\n");
  assert.equal(lines[0], "verdict   wait");
  assert.equal(lines[1], "summary   waiting for a node it has not failed on (1 busy), at most until 2026-12-04T19:00:01.500Z");
  assert.match(out, /a\s+job already failed here; waiting for another node/);
  assert.match(out, /2026-12-04T19:00:00\.000Z\s+requeued\s+a\s+node a was lost/);
  // A decision without a summary (older coordinators) prints no summary line.
  assert.ok(!renderWhy({ decision: { verdict: "placed", node_id: "b", gpu_index: 0 } }).includes("summary"));
});
