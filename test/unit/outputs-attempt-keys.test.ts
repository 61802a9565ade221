/**
 * Output keys per attempt (issue 18 item 6). Two attempts of one job, as when a stalled
 * agent wakes after its job was re-run elsewhere: the second attempt (lease token 2)
 * completes first; the first (token 1) writes its file afterwards. The completed result
 * must still name a file holding the second attempt's bytes. Before the fix both attempts
 * wrote `outputs/outfix/<job>.txt`, and the late one overwrote the completed job's output.
 * Real task runner, real fs artifact store, the fixture plugin that writes an output.
 */
import { test } from "vitest";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startTaskRun } from "../../node-agent/task-runner.ts";
import { FsArtifactStore } from "../../core/artifacts/index.ts";
import { attemptKey, attemptScope } from "../../core/artifacts/attempt-scope.ts";
import { silentLogger } from "../../core/logger.ts";
import outfix from "../fixtures/output-plugin/outfix/index.ts";

const streamText = async (s: NodeJS.ReadableStream) => {
  let out = "";
  for await (const c of s) out += c.toString();
  return out;
};

function run(store: FsArtifactStore, workRoot: string, jobId: string, leaseToken: number, attempt: number, params: Record<string, unknown>) {
  return startTaskRun({
    task: { job_id: jobId, type: "outfix.write", params, attempt },
    plugin: outfix,
    pluginConfig: {},
    gpus: [],
    modelsDir: workRoot,
    artifacts: store,
    leaseToken,
    logger: silentLogger,
    workRoot,
    cancelGraceMs: 500,
    onProgress: () => {},
  }).done;
}

test("a fenced late attempt does not overwrite the completed attempt's output", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nb-attempt-keys-"));
  try {
    const store = new FsArtifactStore(dir);
    const late = run(store, dir, "job-1", 1, 1, { text: "attempt 1 (fenced, late)", seconds: 0.8 });
    const second = await run(store, dir, "job-1", 2, 2, { text: "attempt 2 (completed the job)" });
    assert.equal(second.status, "completed");
    const result = (second as { result: Record<string, unknown> }).result;
    // The result names the attempt's own file, in every form the plugin gave it.
    assert.equal(result.text_url, "/outputs/outfix/job-1.lease2.txt");
    assert.equal(result.text_key, "outputs/outfix/job-1.lease2.txt");
    assert.deepEqual(result.files, [{ url: "/outputs/outfix/job-1.lease2.txt" }]);
    // The plugin's read-back of its own write saw its own file.
    assert.equal(result.bytes, Buffer.byteLength("attempt 2 (completed the job)"));

    assert.equal((await late).status, "completed");
    const served = await streamText(await store.get(String(result.text_key)));
    assert.equal(served, "attempt 2 (completed the job)");
    // The late attempt's bytes went to a file nothing names.
    assert.equal(await streamText(await store.get("outputs/outfix/job-1.txt")), "attempt 1 (fenced, late)");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("attempt keys: first lease keeps the plain name; only outputs/ keys this attempt wrote are renamed", async () => {
  assert.equal(attemptKey("outputs/images/a.png", 1), "outputs/images/a.png");
  assert.equal(attemptKey("outputs/images/a.png", 7), "outputs/images/a.lease7.png");
  assert.equal(attemptKey("outputs/music/x.y/clip", 3), "outputs/music/x.y/clip.lease3");
  assert.equal(attemptKey("outputs/.hidden", 3), "outputs/.hidden.lease3");
  assert.equal(attemptKey("uploads/ab/cd.png", 3), "uploads/ab/cd.png");

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nb-attempt-scope-"));
  try {
    const base = new FsArtifactStore(dir);
    await base.put("outputs/prev/input.png", Buffer.from("an earlier job's output"));
    const scope = attemptScope(base, 4);
    const info = await scope.store.put("outputs/v/out.mp4", Buffer.from("video"));
    assert.equal(info.key, "outputs/v/out.mp4", "the plugin sees the key it asked for");
    assert.ok(await base.stat("outputs/v/out.lease4.mp4"));
    assert.equal(await base.stat("outputs/v/out.mp4"), null);
    // Inputs (another job's output, an upload) are read where they are.
    assert.equal(await streamText(await scope.store.get("outputs/prev/input.png")), "an earlier job's output");
    assert.deepEqual(scope.result({ video_url: "/outputs/v/out.mp4", source: "/outputs/prev/input.png", nested: [{ k: "outputs/v/out.mp4" }], n: 3 }), {
      video_url: "/outputs/v/out.lease4.mp4",
      source: "/outputs/prev/input.png",
      nested: [{ k: "outputs/v/out.lease4.mp4" }],
      n: 3,
    });
    // A chunk list and a writer (the image plugin's /view path) are scoped the same way.
    await scope.store.put("outputs/v/list.png", [Buffer.from("png "), Buffer.from("bytes")]);
    assert.equal(await streamText(await base.get("outputs/v/list.lease4.png")), "png bytes");
    const w = scope.store.writer!("outputs/images/w.png", { contentType: "image/png" })!;
    w.write(Buffer.from("streamed"));
    assert.equal(w.commit().key, "outputs/images/w.png", "the plugin sees the key it asked for");
    assert.equal(await streamText(await base.get("outputs/images/w.lease4.png")), "streamed");
    assert.equal(await base.stat("outputs/images/w.png"), null);
    assert.equal(scope.result({ image_url: "/outputs/images/w.png" }).image_url, "/outputs/images/w.lease4.png");
    const dropped = scope.store.writer!("outputs/images/gone.png")!;
    assert.equal(scope.store.writer!("outputs/images/small.png", { size: 10 }), undefined, "a small body is put whole");
    dropped.write(Buffer.from("never published"));
    dropped.abort();
    assert.deepEqual(fs.readdirSync(path.join(dir, "outputs/images")), ["w.lease4.png"]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
