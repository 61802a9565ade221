/** video.animate (CPU Ken Burns) end to end with real ffmpeg. */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import plugin from "../../plugins/video/index.ts";
import { FarmError } from "../../core/errors.ts";
import { FsArtifactStore } from "../../core/artifacts/fs-store.ts";
import { makeTaskContext } from "../helpers/task-context.ts";
import { makeImage, meanFrameDiff, probe, upload } from "./video-fixtures.ts";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "video-animate-"));
const store = new FsArtifactStore(path.join(root, "store"));
let image = "";
let seq = 0;

beforeAll(async () => {
  fs.mkdirSync(path.join(root, "src"));
  image = await upload(store, makeImage(path.join(root, "src"), "photo", 320, 240));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

async function animate(params: Record<string, unknown>) {
  const ctx = makeTaskContext({ artifacts: store });
  const job_id = `anim-${++seq}`;
  try {
    const res = await plugin.run({ job_id, type: "video.animate", model: "kenburns", params: { image, ...params }, attempt: 1 }, ctx);
    assert.deepEqual(fs.readdirSync(ctx.workDir), []);
    return { res, meta: res.metadata as Record<string, unknown>, file: path.join(store.root, "outputs/videos", `${job_id}.mp4`) };
  } finally {
    ctx.cleanup();
  }
}

test("num_frames frames at fps, with visible motion, reported by the kenburns model", async () => {
  const { res, meta, file } = await animate({
    prompt: "slow push in",
    num_frames: 30,
    fps: 24,
    width: 160,
    height: 120,
    motion_strength: 0.8,
    quality: "draft",
  });
  const p = probe(file);
  assert.deepEqual([p.frames, p.width, p.height, p.fps, p.codec], [30, 160, 120, 24, "h264"]);
  assert.ok(Math.abs(p.duration - 30 / 24) < 1e-3);
  assert.equal(meta.model, "kenburns");
  assert.equal(meta.frame_count, 30);
  assert.equal(meta.prompt_applied, false);
  assert.equal(res.thumbnail_url, `/outputs/videos/${res.job_id}.jpg`);
  assert.ok(meanFrameDiff(file) > 0.05, "frames change from one to the next");
});

test("every motion renders and moves; stronger motion moves more", async () => {
  for (const motion of ["zoom_in", "zoom_out", "pan_left", "pan_right", "ken_burns"]) {
    const { file } = await animate({ motion, num_frames: 12, fps: 12, width: 96, height: 64, quality: "draft" });
    assert.equal(probe(file).frames, 12, motion);
    assert.ok(meanFrameDiff(file) > 0.05, `${motion} moves`);
  }
  const subtle = meanFrameDiff(
    (await animate({ motion: "zoom_in", motion_strength: 0, num_frames: 12, fps: 12, width: 96, height: 64, quality: "draft" })).file,
  );
  const strong = meanFrameDiff(
    (await animate({ motion: "zoom_in", motion_strength: 1, num_frames: 12, fps: 12, width: 96, height: 64, quality: "draft" })).file,
  );
  assert.ok(strong > subtle, `strong ${strong} > subtle ${subtle}`);
});

test("default size follows the image; defaults are 24 fps", async () => {
  const { meta } = await animate({ num_frames: 6, quality: "draft" });
  assert.deepEqual([meta.resolution, meta.fps, meta.frame_count], ["320x240", 24, 6]);
});

test("bad animate params name their field", async () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ image: "inputs/missing.png" }, "image"],
    [{ num_frames: 0 }, "num_frames"],
    [{ motion: "spin" }, "motion"],
    [{ motion_strength: 2 }, "motion_strength"],
    [{ fps: 1000 }, "fps"],
  ];
  for (const [params, field] of cases) {
    const ctx = makeTaskContext({ artifacts: store });
    try {
      await assert.rejects(
        plugin.run({ job_id: "bad", type: "video.animate", params: { image, ...params }, attempt: 1 }, ctx),
        (err: unknown) => err instanceof FarmError && err.code === "VALIDATION_ERROR" && err.details?.field === field,
      );
      assert.deepEqual(fs.readdirSync(ctx.workDir), []);
    } finally {
      ctx.cleanup();
    }
  }
});
