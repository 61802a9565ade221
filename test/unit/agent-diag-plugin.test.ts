import { test } from "vitest";
import assert from "node:assert/strict";
import diag from "../../plugins/diag/index.ts";
import { makeTaskContext } from "../helpers/task-context.ts";
import { FarmError } from "../../core/errors.ts";

const t = (type: string, params: Record<string, unknown> = {}, attempt = 1) => ({ job_id: "j1", type, params, attempt });

test("diag.echo returns its params", async () => {
  const ctx = makeTaskContext();
  try {
    assert.deepEqual(await diag.run(t("diag.echo", { a: 1, b: "two" }), ctx), { echo: { a: 1, b: "two" } });
  } finally {
    ctx.cleanup();
  }
});

test("diag.sleep stops as soon as its signal aborts", async () => {
  const ctx = makeTaskContext();
  try {
    const running = diag.run(t("diag.sleep", { seconds: 600, steps: 600 }), ctx);
    setTimeout(() => ctx.abort(), 50);
    await assert.rejects(running, (err: unknown) => err instanceof Error);
    assert.deepEqual(ctx.progressLog, [], "no step completed");
  } finally {
    ctx.cleanup();
  }
});

test("diag.sleep with seconds 0 completes with one step at 100%", async () => {
  const ctx = makeTaskContext();
  try {
    assert.deepEqual(await diag.run(t("diag.sleep", { seconds: 0 }), ctx), { slept_s: 0, steps: 1 });
    assert.deepEqual(ctx.progressLog, [{ pct: 100, message: "step 1/1" }]);
  } finally {
    ctx.cleanup();
  }
});

test("diag.fail throws the catalog error it is asked for, with the attempt in details", async () => {
  const ctx = makeTaskContext();
  try {
    await assert.rejects(diag.run(t("diag.fail", { code: "EXTERNAL_API_ERROR", message: "upstream down" }, 3), ctx), (err: unknown) => {
      assert.ok(err instanceof FarmError);
      assert.deepEqual([err.code, err.message, err.retryable, err.details?.attempt], ["EXTERNAL_API_ERROR", "upstream down", false, 3]);
      return true;
    });
  } finally {
    ctx.cleanup();
  }
});

test("diag.gpu reports the model handle it was given, and refuses to run without one", async () => {
  const ctx = makeTaskContext({ model: { id: "diag-small", vram_mb: 2048, gpu_index: 1, load_id: 42, loaded_at: 0 } });
  try {
    assert.deepEqual(await diag.run({ ...t("diag.gpu"), model: "diag-small", gpu_index: 1 }, ctx), {
      model: "diag-small",
      gpu_index: 1,
      vram_mb: 2048,
      load_id: 42,
    });
    const bare = makeTaskContext();
    await assert.rejects(diag.run(t("diag.gpu"), bare), { code: "MODEL_ERROR" });
    bare.cleanup();
  } finally {
    ctx.cleanup();
  }
});
