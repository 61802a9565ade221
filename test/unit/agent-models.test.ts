import { test } from "vitest";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { makeAgent, task } from "./agent-harness.ts";
import type { Plugin } from "../../core/plugin-contract.ts";
import { diagModelStats } from "../../plugins/diag/index.ts";

async function run(h: Awaited<ReturnType<typeof makeAgent>>, model: string, params: Record<string, unknown> = {}) {
  const t = task("diag.gpu", params, { model, gpu_index: 0 });
  await h.agent.startTask(t);
  return { t, out: await h.reporter.outcome(t.job_id) };
}

test("diag.gpu on a simulated 24 GB GPU: loads on demand, reuses resident models, evicts idle ones LRU", async () => {
  const h = await makeAgent();
  try {
    const loadsBefore = diagModelStats().loads;
    const a = await run(h, "diag-large");
    assert.equal(a.out.kind, "completed");
    const ra = a.out.kind === "completed" ? a.out.result : {};
    assert.deepEqual([ra.model, ra.gpu_index, ra.vram_mb], ["diag-large", 0, 20000]);
    assert.deepEqual(
      h.agent.report().resident.map((r) => [r.model_id, r.gpu_index, r.vram_mb, r.in_use]),
      [["diag-large", 0, 20000, 0]],
    );
    assert.equal(h.agent.report().gpus[0]!.memory_used_mb, 20000, "simulated GPU shows the resident model's VRAM");

    // Resident: the second job reuses the same load.
    const b = await run(h, "diag-large");
    assert.equal(b.out.kind === "completed" && b.out.result.load_id, ra.load_id);
    // diag-small fits next to it (20000 + 2048 <= 24576): both resident.
    await run(h, "diag-small");
    assert.deepEqual(
      h.agent
        .report()
        .resident.map((r) => r.model_id)
        .sort(),
      ["diag-large", "diag-small"],
    );
    // diag-medium does not fit: the least recently used idle model (diag-large) is evicted.
    const m = await run(h, "diag-medium");
    assert.equal(m.out.kind === "completed" && m.out.result.model, "diag-medium");
    assert.deepEqual(
      h.agent
        .report()
        .resident.map((r) => r.model_id)
        .sort(),
      ["diag-medium", "diag-small"],
    );
    assert.equal(diagModelStats().loads - loadsBefore, 3);
    // The job type's default model is used when the task names none.
    const d = task("diag.gpu", {}, { gpu_index: 0 });
    await h.agent.startTask(d);
    const od = await h.reporter.outcome(d.job_id);
    assert.equal(od.kind === "completed" && od.result.model, "diag-small");
  } finally {
    await h.cleanup();
  }
});

test("a model in use is never evicted: a job that cannot fit fails GPU_ERROR (retryable) with the numbers", async () => {
  const h = await makeAgent();
  try {
    const hold = task("diag.gpu", { seconds: 60 }, { model: "diag-large", gpu_index: 0 });
    await h.agent.startTask(hold);
    await h.reporter.waitFor((r) => r.job_id === hold.job_id && r.kind === "progress"); // loaded and running
    const { out } = await run(h, "diag-medium");
    assert.equal(out.kind, "failed");
    if (out.kind === "failed") {
      assert.equal(out.error.code, "GPU_ERROR");
      assert.equal(out.retryable, true);
      assert.match(out.error.message, /not enough VRAM on GPU 0 \(Sim 24GB\) for model 'diag-medium': needs 8192 MiB, 4576 MiB free of 24576 MiB/);
    }
    assert.deepEqual(
      h.agent.report().resident.map((r) => [r.model_id, r.in_use]),
      [["diag-large", 1]],
    );
    await h.agent.cancelTask(hold.job_id, hold.token);
    await h.reporter.outcome(hold.job_id);
    assert.deepEqual(
      h.agent.report().resident.map((r) => [r.model_id, r.in_use]),
      [["diag-large", 0]],
    );
  } finally {
    await h.cleanup();
  }
});

test("unknown model is VALIDATION_ERROR on field model; a model with missing files is MODEL_ERROR naming them", async () => {
  const weighty: Plugin = {
    manifest: {
      name: "weighty",
      version: "1",
      runtime: "onnx",
      job_types: [{ type: "weighty.gen", models: ["w1"], default_model: "w1" }],
      models: [{ id: "w1", vram_mb: 1000, files: ["weighty/w1.onnx"] }],
    },
    run: async () => ({ ran: true }),
  };
  const h = await makeAgent({ extraPlugins: [{ name: "weighty", plugin: weighty }] });
  try {
    assert.deepEqual(h.agent.report().models["weighty.gen"], [], "not advertised");
    assert.deepEqual(
      h.agent.unavailableModels().map((u) => u.model_id),
      ["w1"],
    );
    const t = task("weighty.gen", {}, { gpu_index: 0 });
    await h.agent.startTask(t);
    const o = await h.reporter.outcome(t.job_id);
    assert.equal(o.kind, "failed");
    if (o.kind === "failed") {
      const expected = path.join(h.base, "models", "weighty/w1.onnx");
      assert.equal(o.error.code, "MODEL_ERROR");
      assert.equal(o.retryable, false);
      assert.ok(o.error.message.includes(expected), o.error.message);
      assert.deepEqual(o.error.details?.missing, [expected]);
      assert.equal(fs.existsSync(expected), false);
    }
    const u = task("diag.gpu", {}, { model: "sdxl", gpu_index: 0 });
    await h.agent.startTask(u);
    const ou = await h.reporter.outcome(u.job_id);
    assert.deepEqual(ou.kind === "failed" && [ou.error.code, ou.error.details?.field], ["VALIDATION_ERROR", "model"]);
  } finally {
    await h.cleanup();
  }
});
