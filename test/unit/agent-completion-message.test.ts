import { test } from "vitest";
import assert from "node:assert/strict";
import { makeAgent, task } from "./agent-harness.ts";
import type { Plugin } from "../../core/plugin-contract.ts";

/** Sends one update, then ends with a second one still held by the progress throttle. */
const lateProgress: Plugin = {
  manifest: { name: "late", version: "1", runtime: "cpu", job_types: [{ type: "late.progress" }], models: [] },
  async run(_t, ctx) {
    await new Promise((r) => setTimeout(r, 150)); // past the agent's 100 ms throttle interval
    ctx.progress(10, "step 1/2");
    ctx.progress(90, "step 2/2");
    return { ok: true };
  },
};

test("the agent's completion report carries the last progress message instead of a progress call before it", async () => {
  const h = await makeAgent({ extraPlugins: [{ name: "late", plugin: lateProgress }] });
  try {
    const t = task("late.progress", {});
    await h.agent.startTask(t);
    await h.reporter.outcome(t.job_id);
    const mine = h.reporter.reports.filter((r) => r.job_id === t.job_id);
    assert.deepEqual(mine, [
      { kind: "progress", job_id: t.job_id, token: t.token, progress: 10, message: "step 1/2" },
      { kind: "completed", job_id: t.job_id, token: t.token, result: { ok: true }, message: "step 2/2" },
    ]);
  } finally {
    await h.cleanup();
  }
});
