/**
 * diag.sleep's block_ms (issue 15 item 3's drill): the plugin holds the agent's main thread
 * synchronously, as a long synchronous step of a real plugin would, so that no timer (the
 * mesh heartbeat among them) runs meanwhile. Checked as an order of events: a timer due at
 * once fires only after the blocking step has returned.
 */
import { test } from "vitest";
import assert from "node:assert/strict";
import diag from "../../plugins/diag/index.ts";
import { makeTaskContext } from "../helpers/task-context.ts";
import { FarmError } from "../../core/errors.ts";

const t = (params: Record<string, unknown>) => ({ job_id: "j1", type: "diag.sleep", params, attempt: 1 });

test("diag.sleep block_ms holds the thread: a timer due at once runs only after the block", async () => {
  const ctx = makeTaskContext();
  try {
    const order: string[] = [];
    setTimeout(() => order.push("timer"), 0);
    const started = performance.now();
    const run = diag.run(t({ seconds: 0, block_ms: 300 }), ctx);
    order.push("run returned");
    const heldMs = performance.now() - started;
    assert.deepEqual(await run, { slept_s: 0, steps: 1 });
    await new Promise((r) => setTimeout(r, 0));
    assert.deepEqual(order, ["run returned", "timer"]);
    assert.ok(heldMs >= 290, `held ${heldMs} ms`);
  } finally {
    ctx.cleanup();
  }
});

test("diag.sleep block_ms out of range or not an integer is a VALIDATION_ERROR naming params.block_ms", async () => {
  for (const block_ms of [-1, 60_001, 1.5, "4000"]) {
    const ctx = makeTaskContext();
    try {
      await assert.rejects(
        diag.run(t({ seconds: 0, block_ms }), ctx),
        (err: unknown) => err instanceof FarmError && err.code === "VALIDATION_ERROR" && err.details?.field === "params.block_ms",
      );
    } finally {
      ctx.cleanup();
    }
  }
});
