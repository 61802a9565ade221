import { test } from "vitest";
import assert from "node:assert/strict";
import { FarmError } from "../../core/errors.ts";
import type { GpuInfo } from "../../core/telemetry.ts";
import { chooseEncoder, encoderArgs, parseOutputSettings } from "../../plugins/video/src/output-settings.ts";
import { listEncoders } from "../../plugins/video/src/ffmpeg-run.ts";
import { buildFilterGraph, escapeFilterValue } from "../../plugins/video/src/filter-graph.ts";
import { buildTimeline } from "../../plugins/video/src/timeline.ts";
import { parseAssembleParams } from "../../plugins/video/src/params-assemble.ts";

const D = { width: 1920, height: 1080, fps: 30 };
const field = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof FarmError);
    assert.equal(err.code, "VALIDATION_ERROR");
    return err.details?.field;
  }
  assert.fail("expected VALIDATION_ERROR");
};
const gpu = (name: string, simulated = false): GpuInfo => ({
  index: 0,
  uuid: "u",
  name,
  memory_total_mb: 80_000,
  memory_used_mb: 0,
  utilization_pct: 0,
  temperature_c: 40,
  simulated,
});

test("platform presets set size and fps; explicit values win", () => {
  const tiktok = parseOutputSettings({ platform: "TikTok (9:16)" }, D);
  assert.deepEqual([tiktok.width, tiktok.height, tiktok.fps, tiktok.ext], [1080, 1920, 30, "mp4"]);
  const cine = parseOutputSettings({ platform: "cinematic (2.39:1)", fps: 25 }, D);
  assert.deepEqual([cine.width, cine.height, cine.fps], [1920, 804, 25]);
  assert.equal(
    field(() => parseOutputSettings({ platform: "MySpace" }, D)),
    "output_settings.platform",
  );
});

test("absurd sizes, frame rates and codecs are rejected naming the field", () => {
  assert.equal(
    field(() => parseOutputSettings({ resolution: "100000x100000" }, D)),
    "output_settings.resolution",
  );
  assert.equal(
    field(() => parseOutputSettings({ resolution: "1920by1080" }, D)),
    "output_settings.resolution",
  );
  assert.equal(
    field(() => parseOutputSettings({ resolution: "321x180" }, D)),
    "output_settings.resolution",
  );
  assert.equal(
    field(() => parseOutputSettings({ fps: 0 }, D)),
    "output_settings.fps",
  );
  assert.equal(
    field(() => parseOutputSettings({ fps: 1000 }, D)),
    "output_settings.fps",
  );
  assert.equal(
    field(() => parseOutputSettings({ codec: "av1" }, D)),
    "output_settings.codec",
  );
  assert.equal(
    field(() => parseOutputSettings({ quality: "ultra" }, D)),
    "output_settings.quality",
  );
  assert.equal(
    field(() => parseOutputSettings({ bitrate: "fast" }, D)),
    "output_settings.bitrate",
  );
});

test("containers follow the codec and quality tiers pick presets", () => {
  assert.equal(parseOutputSettings({ codec: "vp9" }, D).ext, "webm");
  assert.equal(parseOutputSettings({ codec: "prores" }, D).ext, "mov");
  const draft = encoderArgs(parseOutputSettings({ quality: "draft" }, D), "libx264");
  assert.deepEqual(draft.slice(0, 6), ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "28"]);
  assert.ok(draft.join(" ").includes("-movflags +faststart"));
  const max = encoderArgs(parseOutputSettings({ quality: "maximum", bitrate: "10M" }, D), "libx264");
  assert.deepEqual(max.slice(0, 6), ["-c:v", "libx264", "-preset", "veryslow", "-b:v", "10M"]);
  assert.ok(!encoderArgs(parseOutputSettings({ codec: "vp9" }, D), "libvpx-vp9").includes("-movflags"));
});

test("NVENC only with a real NVIDIA GPU and an ffmpeg that lists it", async () => {
  const plan = parseOutputSettings({ codec: "h264" }, D);
  const listed = /\bh264_nvenc\b/.test(await listEncoders());
  assert.equal(await chooseEncoder(plan, [gpu("NVIDIA H100 80GB HBM3")]), listed ? "h264_nvenc" : "libx264");
  assert.equal(await chooseEncoder(plan, [gpu("NVIDIA H100 80GB HBM3", true)]), "libx264");
  assert.equal(await chooseEncoder(plan, []), "libx264");
  assert.equal(await chooseEncoder(parseOutputSettings({ codec: "vp9" }, D), [gpu("NVIDIA A100")]), "libvpx-vp9");
  assert.equal(await chooseEncoder(parseOutputSettings({ encoder: "software" }, D), [gpu("NVIDIA A100")]), "libx264");
});

test("paths are escaped for the filtergraph", () => {
  assert.equal(escapeFilterValue("/tmp/a b/clip-0.mp4"), "/tmp/a b/clip-0.mp4");
  assert.equal(escapeFilterValue("/tmp/x:y,z.mp4"), "/tmp/x\\\\:y\\,z.mp4");
});

test("one filter graph: transitions on short tail+head pairs, one concat, no whole clip buffered", () => {
  const n = 64;
  const params = parseAssembleParams({
    clips: Array.from({ length: n }, () => ({ path: "k", duration: 1, transition_out: "crossfade", transition_duration: 0.2 })),
  });
  const t = buildTimeline(
    params.clips,
    params.clips.map(() => ({ kind: "video" as const, duration: 5 })),
    30,
  );
  const graph = buildFilterGraph(t, {
    width: 320,
    height: 180,
    fit: "letterbox",
    clips: params.clips.map((_, i) => ({
      file: `/tmp/clip-${i}.mp4`,
      trimStart: 0,
      startTime: 0,
      kind: "video" as const,
      hasAudio: false,
      motion: "none" as const,
      motionStrength: 0,
    })),
  });
  // n-1 joins between clips plus the last clip's fade-out to black.
  assert.equal(graph.match(/xfade=/g)?.length, n);
  assert.equal(graph.match(/acrossfade=/g)?.length, n - 1);
  // Clips are pulled by movie sources (decoded on demand), one per clip.
  assert.equal(graph.match(/movie=filename=/g)?.length, n);
  // One concat strings n bodies and n-1 transitions together, in timeline order.
  const concats = graph.match(/concat=n=(\d+):v=1:a=1/g) ?? [];
  assert.deepEqual(concats, [`concat=n=${2 * n - 1}:v=1:a=1`]);
  // Every join's xfade takes trimmed 6-frame tail/head pieces, never a whole clip.
  const joins = graph.split(";\n").filter((l) => /xfade=.*offset=0\[vx/.test(l));
  assert.equal(joins.length, n - 1);
  for (const line of joins) assert.match(line, /^\[vt\d+\]\[vh\d+\]xfade=transition=fade:duration=0\.2:offset=0/);
  assert.ok(graph.includes("trim=start_frame=24:end_frame=30"), "a clip's tail is its last 6 frames");
});
