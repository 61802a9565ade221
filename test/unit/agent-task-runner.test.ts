import { test } from "vitest";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { makeAgent, task } from "./agent-harness.ts";
import { startTaskRun, classifyError, type TaskRunOptions } from "../../node-agent/task-runner.ts";
import type { Plugin } from "../../core/plugin-contract.ts";
import { FarmError } from "../../core/errors.ts";
import { silentLogger } from "../../core/logger.ts";
import { FsArtifactStore } from "../../core/artifacts/fs-store.ts";

/** Writes into its workDir, remembers where, then succeeds or throws as asked. */
const seenDirs: string[] = [];
const workdirPlugin: Plugin = {
  manifest: { name: "wd", version: "1", runtime: "cpu", job_types: [{ type: "wd.write" }], models: [] },
  async run(t, ctx) {
    fs.writeFileSync(path.join(ctx.workDir, "scratch.bin"), Buffer.alloc(1024));
    seenDirs.push(ctx.workDir);
    assert.ok(fs.existsSync(path.join(ctx.workDir, "scratch.bin")));
    if (t.params.fail) throw new Error("disk full of bad ideas");
    return { wrote: true };
  },
};

test("the workDir (<work_dir>/<job_id>-<attempt>) is removed after success and after failure", async () => {
  const h = await makeAgent({ extraPlugins: [{ name: "wd", plugin: workdirPlugin }] });
  try {
    const ok = task("wd.write", {}, { attempt: 2 });
    await h.agent.startTask(ok);
    assert.equal((await h.reporter.outcome(ok.job_id)).kind, "completed");
    const bad = task("wd.write", { fail: true });
    await h.agent.startTask(bad);
    const o = await h.reporter.outcome(bad.job_id);
    assert.deepEqual(o.kind === "failed" && [o.error.code, o.error.message, o.retryable], ["INTERNAL_ERROR", "disk full of bad ideas", false]);
    assert.deepEqual(seenDirs.slice(-2), [path.join(h.workDir, `${ok.job_id}-2`), path.join(h.workDir, `${bad.job_id}-1`)]);
    for (const d of seenDirs.slice(-2)) assert.equal(fs.existsSync(d), false, `${d} removed`);
  } finally {
    await h.cleanup();
  }
});

function runOpts(plugin: Plugin, over: Partial<TaskRunOptions> = {}): TaskRunOptions & { base: string } {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "nb-runner-"));
  return {
    base,
    task: { job_id: "../../etc/evil", type: "x.y", params: {}, attempt: 1 },
    plugin,
    pluginConfig: {},
    gpus: [],
    modelsDir: path.join(base, "models"),
    artifacts: new FsArtifactStore(path.join(base, "artifacts")),
    logger: silentLogger,
    workRoot: path.join(base, "work"),
    cancelGraceMs: 200,
    onProgress: () => {},
    ...over,
  };
}

test("progress is throttled, but once any was sent the last update is not lost (sent, or carried by the completion)", async () => {
  const got: [number, string | undefined][] = [];
  const plugin: Plugin = {
    manifest: { name: "p", version: "1", runtime: "cpu", job_types: [{ type: "x.y" }], models: [] },
    async run(_t, ctx) {
      // 5,000 updates spread over ~250 ms: more than two throttle intervals.
      for (let i = 1; i <= 5000; i++) {
        ctx.progress(i / 50, `item ${i}/5000`);
        if (i % 500 === 0) await new Promise((r) => setTimeout(r, 25));
      }
      return { done: true };
    },
  };
  const o = runOpts(plugin, { onProgress: (p, m) => void got.push([p, m]) });
  const t0 = Date.now();
  const run = startTaskRun(o);
  const outcome = await run.done;
  const elapsed = Date.now() - t0;
  assert.ok(outcome.status === "completed");
  assert.deepEqual(outcome.result, { done: true });
  // At most one update per 100 ms interval of the run (the bound was a fixed 10: a loaded
  // machine that stretched the ten 25 ms pauses past a second let more through, all throttled).
  const most = Math.floor(elapsed / 100) + 2;
  assert.ok(got.length >= 1 && got.length <= most, `throttled: ${got.length} of 5000 updates delivered in ${elapsed} ms`);
  // The last update was either sent by the throttle's timer during the final 25 ms, or was
  // still pending at the end and rides on the completion.
  const last = outcome.message === undefined ? got.at(-1) : [100, outcome.message];
  assert.deepEqual(last, [100, "item 5000/5000"]);
  // A hostile job id cannot place the workDir outside the work root.
  assert.equal(path.dirname(run.workDir), o.workRoot);
  fs.rmSync(o.base, { recursive: true, force: true });
});

test("an update still pending at the end: a completion carries its message, a failure sends it first", async () => {
  for (const fail of [false, true]) {
    const got: [number, string | undefined][] = [];
    const plugin: Plugin = {
      manifest: { name: "p", version: "1", runtime: "cpu", job_types: [{ type: "x.y" }], models: [] },
      async run(_t, ctx) {
        await new Promise((r) => setTimeout(r, 80));
        ctx.progress(10, "step 1/2"); // past the 50 ms interval: sent at once
        ctx.progress(90, "step 2/2"); // within it: held for the throttle's timer
        if (fail) throw new FarmError("GPU_ERROR", "decoder fell over");
        return { done: true };
      },
    };
    const o = runOpts(plugin, { onProgress: (p, m) => void got.push([p, m]), progressIntervalMs: 50 });
    const outcome = await startTaskRun(o).done;
    if (fail) {
      assert.equal(outcome.status, "failed");
      assert.deepEqual(got, [
        [10, "step 1/2"],
        [90, "step 2/2"],
      ]);
    } else {
      // No separate progress call before the completion: its report carries the message.
      assert.deepEqual(outcome, { status: "completed", result: { done: true }, message: "step 2/2" });
      assert.deepEqual(got, [[10, "step 1/2"]]);
    }
    fs.rmSync(o.base, { recursive: true, force: true });
  }
});

test("a task that ends within its first progress interval reports no progress: the outcome is the news", async () => {
  const got: number[] = [];
  const plugin: Plugin = {
    manifest: { name: "p", version: "1", runtime: "cpu", job_types: [{ type: "x.y" }], models: [] },
    async run(_t, ctx) {
      for (let i = 1; i <= 7; i++) ctx.progress((i / 7) * 100, `stage ${i}/7`);
      return { done: true };
    },
  };
  const o = runOpts(plugin, { onProgress: (p) => void got.push(p), progressIntervalMs: 1000 });
  const outcome = await startTaskRun(o).done;
  assert.deepEqual(outcome, { status: "completed", result: { done: true } });
  assert.deepEqual(got, []);
  fs.rmSync(o.base, { recursive: true, force: true });
});

test("a plugin that ignores the abort signal is abandoned after the grace period and the run fails with the cancel reason", async () => {
  let release!: () => void;
  const plugin: Plugin = {
    manifest: { name: "p", version: "1", runtime: "cpu", job_types: [{ type: "x.y" }], models: [] },
    run: () => new Promise((r) => (release = () => r({ late: true }))),
  };
  const o = runOpts(plugin);
  const run = startTaskRun(o);
  run.cancel(new FarmError("JOB_CANCELLED", "job x was cancelled"));
  const outcome = await run.done;
  assert.deepEqual(outcome, { status: "failed", error: { code: "JOB_CANCELLED", message: "job x was cancelled" }, retryable: false, cancelled: true });
  release(); // returning late changes nothing
  fs.rmSync(o.base, { recursive: true, force: true });
});

test("error mapping: FarmError keeps its code and flag; GPU/out-of-memory errors are retryable; others are INTERNAL_ERROR", () => {
  assert.deepEqual(classifyError(new FarmError("EXTERNAL_API_ERROR", "upstream 502")), {
    error: { code: "EXTERNAL_API_ERROR", message: "upstream 502" },
    retryable: true,
  });
  assert.deepEqual(classifyError(new FarmError("GPU_ERROR", "nope", undefined, false)).retryable, false);
  assert.deepEqual(classifyError(new Error("CUDA error: out of memory")), {
    error: { code: "GPU_ERROR", message: "CUDA error: out of memory" },
    retryable: true,
  });
  assert.deepEqual(classifyError(new Error("std::bad_alloc: failed to allocate memory on GPU")).error.code, "GPU_ERROR");
  assert.deepEqual(classifyError(new TypeError("x is undefined")), { error: { code: "INTERNAL_ERROR", message: "x is undefined" }, retryable: false });
  assert.deepEqual(classifyError({ code: "MODEL_ERROR", message: "weights missing" }), {
    error: { code: "MODEL_ERROR", message: "weights missing" },
    retryable: false,
  });
  assert.equal(classifyError("a string").error.code, "INTERNAL_ERROR");
});

test("a plugin returning something other than an object fails the task instead of completing it", async () => {
  const plugin = {
    manifest: { name: "p", version: "1", runtime: "cpu", job_types: [{ type: "x.y" }], models: [] },
    run: async () => "done",
  } as unknown as Plugin;
  const o = runOpts(plugin);
  const outcome = await startTaskRun(o).done;
  assert.equal(outcome.status, "failed");
  assert.equal(outcome.status === "failed" && outcome.error.code, "INTERNAL_ERROR");
  fs.rmSync(o.base, { recursive: true, force: true });
});
