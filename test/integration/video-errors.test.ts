/** video.assemble bad inputs, cancel and cleanup: clear VALIDATION_ERRORs, no encode, no leftovers. */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import plugin from "../../plugins/video/index.ts";
import { FarmError } from "../../core/errors.ts";
import { FsArtifactStore } from "../../core/artifacts/fs-store.ts";
import { makeTaskContext, type TestTaskContext } from "../helpers/task-context.ts";
import { makeClip, makeImage, upload } from "./video-fixtures.ts";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "video-errors-"));
const store = new FsArtifactStore(path.join(root, "store"));
let clip = "";
let silent = "";
let still = "";
let corrupt = "";

beforeAll(async () => {
  const dir = path.join(root, "src");
  fs.mkdirSync(dir);
  clip = await upload(store, makeClip(dir, "ok", { w: 64, h: 36, fps: 10, seconds: 1, toneHz: 440 }));
  silent = await upload(store, makeClip(dir, "silent", { w: 64, h: 36, fps: 10, seconds: 1 }));
  still = await upload(store, makeImage(dir, "still", 640, 360));
  await store.put("inputs/corrupt.mp4", Buffer.from("this is not a video, just text pretending to be one".repeat(50)));
  corrupt = "inputs/corrupt.mp4";
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** A context whose children are recorded but NOT killed by the test harness: the plugin must do it. */
function context(): TestTaskContext & { pids: number[] } {
  const ctx = makeTaskContext({ artifacts: store });
  const pids: number[] = [];
  return Object.assign(ctx, { pids, trackChild: (c: { pid?: number }) => void (c.pid && pids.push(c.pid)) });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function expectError(params: Record<string, unknown>, field: string, message?: RegExp): Promise<void> {
  const ctx = context();
  try {
    await assert.rejects(plugin.run({ job_id: "bad", type: "video.assemble", params, attempt: 1 }, ctx), (err: unknown) => {
      assert.ok(err instanceof FarmError, String(err));
      assert.equal(err.code, "VALIDATION_ERROR", err.message);
      assert.equal(err.details?.field, field, err.message);
      if (message) assert.match(err.message, message);
      return true;
    });
    assert.deepEqual(fs.readdirSync(ctx.workDir), [], "temporary files left behind");
    assert.ok(!ctx.progressLog.some((p) => p.message?.startsWith("Encoding")), "an encode started before inputs were validated");
    assert.ok(
      ctx.pids.every((pid) => !alive(pid)),
      "a child process is still running",
    );
  } finally {
    ctx.cleanup();
  }
}

const out = { resolution: "64x36", fps: 10, quality: "draft" };

test("a missing artifact names the clip", async () => {
  await expectError({ clips: [{ path: clip }, { path: "inputs/nope.mp4" }], output_settings: out }, "clips[1].path", /artifact 'inputs\/nope.mp4' not found/);
});

test("corrupt media is rejected by the probe, before any encode", async () => {
  await expectError({ clips: [{ path: clip }, { path: corrupt }], output_settings: out }, "clips[1].path", /not a readable media file/);
  await expectError({ clips: [{ path: clip }], audio: { path: corrupt }, output_settings: out }, "audio.path", /not a readable media file/);
  await expectError({ clips: [{ path: clip }], audio: { path: silent }, output_settings: out }, "audio.path", /no audio stream/);
});

test("zero-length and out-of-range clips", async () => {
  await expectError({ clips: [{ path: clip, duration: 0 }], output_settings: out }, "clips.0.duration", /must be > 0/);
  await expectError({ clips: [{ path: clip, trim_start: 5 }], output_settings: out }, "clips[0].trim_start", /past the end/);
});

test("unknown transition lists the valid names", async () => {
  await expectError(
    { clips: [{ path: clip, transition_out: "starwipe" }, { path: clip }], output_settings: out },
    "clips[0].transition_out",
    /unknown transition 'starwipe'.*crossfade.*dip_to_black.*wipeleft.*fadeslow/,
  );
});

test("absurd output settings and clip counts", async () => {
  await expectError({ clips: [{ path: clip }], output_settings: { resolution: "100000x100000" } }, "output_settings.resolution", /must match pattern/);
  await expectError({ clips: [{ path: clip }], output_settings: { fps: 0 } }, "output_settings.fps", /must be > 0/);
  await expectError({ clips: [{ path: clip }], output_settings: { fps: 1000 } }, "output_settings.fps", /120/);
  await expectError({ clips: Array.from({ length: 501 }, () => ({ path: clip })), output_settings: out }, "clips", /500/);
  await expectError({ clips: [{ path: clip }], beat_sync: { enabled: true }, output_settings: out }, "beat_sync.beat_markers", /required/);
});

test("cancel kills ffmpeg, rejects JOB_CANCELLED and leaves no temp files", async () => {
  const ctx = context();
  try {
    const seen = new Promise<void>((resolve) => {
      const progress = ctx.progress;
      ctx.progress = (pct, message) => {
        progress(pct, message);
        if (message?.startsWith("Encoding") && pct > 6) resolve();
      };
    });
    // A long, slow render (zoompan on a 60 s still) so there is time to cancel mid-encode.
    const run = plugin.run(
      {
        job_id: "cancel",
        type: "video.assemble",
        attempt: 1,
        params: {
          clips: [{ path: still, duration: 60, motion: "zoom_in" }],
          output_settings: { resolution: "640x360", fps: 30, quality: "draft" },
        },
      },
      ctx,
    );
    run.catch(() => {});
    await seen;
    const ffmpegPid = ctx.pids.at(-1)!;
    assert.ok(alive(ffmpegPid), "ffmpeg is running before cancel");
    ctx.abort();
    await assert.rejects(run, (err: unknown) => err instanceof FarmError && err.code === "JOB_CANCELLED");
    assert.ok(!alive(ffmpegPid), "ffmpeg still running after cancel");
    assert.deepEqual(fs.readdirSync(ctx.workDir), []);
    assert.equal(await store.stat("outputs/videos/cancel.mp4"), null);
  } finally {
    ctx.cleanup();
  }
});
