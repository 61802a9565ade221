/**
 * Chained jobs (job dependencies, issue 20 item 4): steps run one after another as child
 * jobs, each fed by the previous result; the parent answers at once and ends with the last
 * step's result or the first failing step's error, and survives a coordinator restart.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "vitest";
import { FarmError } from "../../core/errors.ts";
import type { JobRecord } from "../../core/job.ts";
import { stepId, stepParams } from "../../coordinator/job-chains.ts";
import { EmbeddedJobStore } from "../../coordinator/stores/embedded-store.ts";
import { harnessPerFile, type Harness } from "./coordinator-harness.ts";

const h = harnessPerFile();
const NODE = { id: "n1", types: ["audio.detect_beats", "video.assemble"], max: 4 };

const isFarm = (code: string, field?: string) => (e: unknown) => {
  assert.ok(e instanceof FarmError, String(e));
  assert.equal(e.code, code);
  if (field) assert.equal(e.details?.field, field);
  return true;
};

/** The assemble-with-beat-analysis chain the API builds for beat_sync without markers. */
const assembleChain = {
  type: "video.assemble",
  params: {},
  steps: [
    { type: "audio.detect_beats", params: { audio_path: "uploads/song.mp3" } },
    {
      type: "video.assemble",
      params: { clips: [{ path: "a.mp4" }], beat_sync: { enabled: true, mode: "every_beat" } },
      inputs: { beats: "beat_sync.beat_markers", downbeats: "beat_sync.downbeats" },
    },
  ],
};

async function complete(x: Harness, jobId: string, result: Record<string, unknown>): Promise<void> {
  const { task } = x.dispatcher.last(jobId);
  await x.coord.reportCompleted({ node_id: "n1", job_id: jobId, token: task.token, result });
  await x.settle();
}

describe("chained jobs", () => {
  it("answers at once, runs the steps in order feeding results forward, and ends with the last result", async () => {
    const x = await h();
    await x.heartbeat(NODE);
    const parent = await x.coord.submit(assembleChain);
    assert.equal(parent.status, "running");
    await x.settle();
    assert.deepEqual(
      x.dispatcher.started.map((s) => s.task.job_id),
      [stepId(parent.id, 1)],
      "only the analysis runs first",
    );
    assert.deepEqual(x.dispatcher.last(stepId(parent.id, 1)).task.params, { audio_path: "uploads/song.mp3" });
    await complete(x, stepId(parent.id, 1), { bpm: 120, beats: [0.5, 1, 1.5], downbeats: [0.5] });
    const second = x.dispatcher.last(stepId(parent.id, 2)).task;
    assert.deepEqual(second.params, {
      clips: [{ path: "a.mp4" }],
      beat_sync: { enabled: true, mode: "every_beat", beat_markers: [0.5, 1, 1.5], downbeats: [0.5] },
    });
    assert.equal((await x.coord.get(parent.id)).message, "step 2 of 2: video.assemble");
    await complete(x, stepId(parent.id, 2), { video_url: "/outputs/v.mp4", metadata: { duration: 3 } });
    const done = await x.coord.get(parent.id);
    assert.equal(done.status, "completed");
    assert.deepEqual(done.result, { video_url: "/outputs/v.mp4", metadata: { duration: 3 } });
    const end = x.events.filter((e) => e.job_id === parent.id && (e.type === "completed" || e.type === "error"));
    assert.deepEqual(
      end.map((e) => e.type),
      ["completed"],
    );
    const s2 = await x.coord.get(stepId(parent.id, 2));
    assert.deepEqual(s2.parent, { id: parent.id, index: 1 });
  });

  it("ends with the error of a failing step and starts no later step", async () => {
    const x = await h();
    await x.heartbeat(NODE);
    const parent = await x.coord.submit(assembleChain);
    await x.settle();
    const { task } = x.dispatcher.last(stepId(parent.id, 1));
    await x.coord.reportFailed({
      node_id: "n1",
      job_id: task.job_id,
      token: task.token,
      error: { code: "VALIDATION_ERROR", message: "audio_path: not an audio file", details: { field: "audio_path" } },
      retryable: false,
    });
    await x.settle();
    const done = await x.coord.get(parent.id);
    assert.equal(done.status, "failed");
    assert.equal(done.error?.code, "VALIDATION_ERROR");
    assert.equal(done.error?.message, "audio_path: not an audio file");
    assert.equal(await x.store.get(stepId(parent.id, 2)), null);
  });

  it("fails naming the field when a step's result lacks an input", async () => {
    const x = await h();
    await x.heartbeat(NODE);
    const parent = await x.coord.submit(assembleChain);
    await x.settle();
    await complete(x, stepId(parent.id, 1), { bpm: 120, beats: [1] });
    const done = await x.coord.get(parent.id);
    assert.equal(done.status, "failed");
    assert.match(done.error?.message ?? "", /step 2 \(video\.assemble\): the previous step's result has no 'downbeats' for beat_sync\.downbeats/);
  });

  it("cancels the step in flight and ends cancelled", async () => {
    const x = await h();
    await x.heartbeat(NODE);
    const parent = await x.coord.submit(assembleChain);
    await x.settle();
    await x.coord.cancel(parent.id);
    assert.deepEqual(
      x.dispatcher.cancelled.map((c) => c.job),
      [stepId(parent.id, 1)],
    );
    const { task } = x.dispatcher.last(stepId(parent.id, 1));
    await x.coord.reportFailed({
      node_id: "n1",
      job_id: task.job_id,
      token: task.token,
      error: { code: "JOB_CANCELLED", message: "stopped" },
      retryable: false,
    });
    await x.settle();
    assert.equal((await x.coord.get(parent.id)).status, "cancelled");
    assert.equal(await x.store.get(stepId(parent.id, 2)), null);
  });

  it("refuses a bad chain or an impossible step before storing anything", async () => {
    const x = await h();
    await x.heartbeat(NODE);
    await assert.rejects(x.coord.submit({ ...assembleChain, type: "audio.detect_beats" }), isFarm("VALIDATION_ERROR", "steps"));
    await assert.rejects(x.coord.submit({ ...assembleChain, steps: [assembleChain.steps[0]!] }), isFarm("VALIDATION_ERROR", "steps"));
    await assert.rejects(
      x.coord.submit({ ...assembleChain, steps: [{ ...assembleChain.steps[0]!, inputs: { a: "b" } }, assembleChain.steps[1]!] }),
      isFarm("VALIDATION_ERROR", "steps[0].inputs"),
    );
    await assert.rejects(
      x.coord.submit({ ...assembleChain, steps: [assembleChain.steps[0]!, { ...assembleChain.steps[1]!, inputs: { beats: "not a path" } }] }),
      isFarm("VALIDATION_ERROR", "steps[1].inputs.beats"),
    );
    await assert.rejects(
      x.coord.submit({ ...assembleChain, steps: [{ type: "audio.separate", params: {} }, assembleChain.steps[1]!] }),
      isFarm("CAPABILITY_UNAVAILABLE"),
    );
    assert.equal((await x.coord.list()).total, 0);
  });

  it("resumes after a restart from the steps that exist", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nb-chain-"));
    const store = await EmbeddedJobStore.open({ dir });
    const base = { priority: 0, progress: 0, created_at: 1, updated_at: 1, attempts: 0, max_attempts: 1, requirements: {}, history: [] };
    const parent: JobRecord = { ...base, id: "p", type: "video.assemble", params: {}, status: "running", started_at: 1, steps: assembleChain.steps };
    const s1: JobRecord = {
      ...base,
      id: "p-s1",
      type: "audio.detect_beats",
      params: {},
      status: "completed",
      result: { beats: [2], downbeats: [2] },
      parent: { id: "p", index: 0 },
    };
    await store.create(parent);
    await store.create(s1);
    await store.close();
    const x = await h({ dir });
    await x.heartbeat(NODE);
    const second = x.dispatcher.last("p-s2").task;
    assert.deepEqual((second.params.beat_sync as Record<string, unknown>).beat_markers, [2]);
  });

  it("places results at nested paths without changing the step it was given", () => {
    const step = { type: "b", params: { a: { keep: 1 } }, inputs: { x: "a.b.c" } };
    assert.deepEqual(stepParams(step, { x: [1] }), { a: { keep: 1, b: { c: [1] } } });
    assert.deepEqual(step.params, { a: { keep: 1 } });
  });
});
