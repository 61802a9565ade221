/** video.assemble end to end with real ffmpeg on tiny generated clips, verified with ffprobe/ffmpeg filters. */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import plugin from "../../plugins/video/index.ts";
import { FsArtifactStore } from "../../core/artifacts/fs-store.ts";
import { makeTaskContext } from "../helpers/task-context.ts";
import { TRANSITION_NAMES } from "../../plugins/video/src/data.ts";
import { makeClip, makeImage, makeTone, meanVolume, probe, sceneCuts, upload } from "./video-fixtures.ts";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "video-assemble-"));
const store = new FsArtifactStore(path.join(root, "store"));
const keys: Record<string, string> = {};
let seq = 0;

beforeAll(async () => {
  const dir = path.join(root, "src");
  fs.mkdirSync(dir);
  const put = async (name: string, file: string) => void (keys[name] = await upload(store, file));
  await put("red", makeClip(dir, "red", { w: 320, h: 180, fps: 30, seconds: 2, colour: "red", toneHz: 330 }));
  await put("blue", makeClip(dir, "blue", { w: 320, h: 180, fps: 30, seconds: 2, colour: "blue" }));
  await put("green", makeClip(dir, "green", { w: 320, h: 180, fps: 30, seconds: 2, colour: "green" }));
  await put("white", makeClip(dir, "white", { w: 320, h: 180, fps: 30, seconds: 2, colour: "white" }));
  await put("portrait", makeClip(dir, "portrait", { w: 180, h: 320, fps: 25, seconds: 1.5, toneHz: 550, pixFmt: "yuv444p" }));
  await put("tiny-a", makeClip(dir, "tiny-a", { w: 64, h: 36, fps: 10, seconds: 0.5 }));
  await put("tiny-b", makeClip(dir, "tiny-b", { w: 64, h: 36, fps: 10, seconds: 0.5, colour: "yellow" }));
  await put("still", makeImage(dir, "still", 400, 300));
  await put("music", makeTone(dir, "music", 12));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

async function render(params: Record<string, unknown>) {
  const ctx = makeTaskContext({ artifacts: store });
  const job_id = `asm-${++seq}`;
  try {
    const res = await plugin.run({ job_id, type: "video.assemble", params, attempt: 1 }, ctx);
    assert.deepEqual(fs.readdirSync(ctx.workDir), [], "temporary files left in workDir");
    const ext = path.extname(String(res.video_url));
    return { res, file: path.join(store.root, "outputs/videos", `${job_id}${ext}`), ctx };
  } finally {
    ctx.cleanup();
  }
}

const frame = (fps: number) => 1 / fps + 1e-6;

test("mixed portrait/landscape/fps/still inputs with crossfades: exact duration, size, fps, codec, poster", async () => {
  const { res, file, ctx } = await render({
    clips: [
      { path: keys.red, transition_out: "crossfade", transition_duration: 0.5 },
      { path: keys.portrait, transition_out: "slideleft", transition_duration: 0.3 },
      { path: keys.still, duration: 1.2, motion: "ken_burns", transition_in: "dip_to_black" },
    ],
    output_settings: { resolution: "320x180", fps: 24, quality: "draft", fit: "blur" },
  });
  const expected = 2 + 1.5 + 1.2 - 0.5 - 0.5; // dip_to_black uses the default 0.5 s
  const p = probe(file);
  assert.deepEqual([p.width, p.height, p.fps, p.codec], [320, 180, 24, "h264"]);
  assert.ok(Math.abs(p.duration - expected) <= frame(24), `duration ${p.duration} vs ${expected}`);
  assert.equal(p.frames, Math.round(expected * 24));
  const meta = res.metadata as Record<string, unknown>;
  assert.equal(meta.frame_count, p.frames);
  assert.equal(meta.resolution, "320x180");
  assert.equal(meta.encoder, "libx264");
  assert.equal(res.status, "completed");
  assert.equal(res.video_url, `/outputs/videos/${res.job_id}.mp4`);
  assert.equal(res.thumbnail_url, `/outputs/videos/${res.job_id}.jpg`);
  assert.ok((await store.stat(`outputs/videos/${res.job_id}.jpg`))!.size > 0);
  // Progress came from ffmpeg's clock, ending with the whole timeline encoded.
  assert.ok(
    ctx.progressLog.some((e) => e.message === `Encoding ${expected.toFixed(1)}/${expected.toFixed(1)} s`),
    JSON.stringify(ctx.progressLog),
  );
});

test("beat sync: hard cuts land within one frame of the chosen markers", async () => {
  const markers = [0.5, 1.3, 2.2, 2.9, 4.1, 5.0];
  const { res, file } = await render({
    clips: [keys.red, keys.blue, keys.green, keys.white].map((k) => ({ path: k, duration: 1.5 })),
    beat_sync: { enabled: true, beat_markers: markers, min_shot_s: 1 },
    output_settings: { resolution: "160x90", fps: 25, quality: "draft" },
  });
  // Walk: nominal 1.5 → 1.3; nominal 2.8 (≥ 2.3) → 2.9; nominal 4.4 (≥ 3.9) → 4.1; last clip 1.5 s.
  const expectedCuts = [1.3, 2.9, 4.1];
  const cuts = sceneCuts(file);
  assert.equal(cuts.length, expectedCuts.length, `cuts found: ${cuts}`);
  cuts.forEach((c, i) => assert.ok(Math.abs(c - expectedCuts[i]!) <= frame(25), `cut ${c} vs marker ${expectedCuts[i]}`));
  const p = probe(file);
  assert.ok(Math.abs(p.duration - 5.6) <= frame(25), `duration ${p.duration}`);
  const timeline = (res.metadata as { timeline: { clips: { start: number }[] } }).timeline;
  timeline.clips.slice(1).forEach((c, i) => assert.ok(Math.abs(c.start - expectedCuts[i]!) <= 0.5 / 25 + 1e-6, `reported cut ${c.start}`));
});

test("music: fades from and to silence, present in between, stops with the video", async () => {
  const { file } = await render({
    clips: [
      { path: keys.blue, duration: 2 },
      { path: keys.green, duration: 2, transition_in: "crossfade", transition_duration: 0.5 },
    ],
    audio: { path: keys.music, volume: 0.8, fade_in: 1, fade_out: 1 },
    output_settings: { resolution: "160x90", fps: 25, quality: "draft" },
  });
  const p = probe(file);
  assert.ok(Math.abs(p.duration - 3.5) <= frame(25));
  // The 12 s music track is cut at the video's end (AAC frames allow a few ms).
  assert.ok(Math.abs(p.audioDuration - p.duration) < 0.05, `audio ${p.audioDuration} vs video ${p.duration}`);
  const start = meanVolume(file, 0, 0.08);
  const middle = meanVolume(file, 1.5, 2.0);
  const end = meanVolume(file, 3.42, 3.5);
  assert.ok(middle > -35, `middle ${middle} dB`);
  assert.ok(start < middle - 20, `start ${start} dB vs middle ${middle}`);
  assert.ok(end < middle - 20, `end ${end} dB vs middle ${middle}`);
});

test("clip audio is kept (silence where a clip has none) and ducking lowers the music under it", async () => {
  const clips = [
    { path: keys.red, duration: 2 },
    { path: keys.blue, duration: 2 },
  ];
  const base = { clips, output_settings: { resolution: "160x90", fps: 25, quality: "draft" } };
  const { file: clipOnly } = await render(base);
  assert.ok(meanVolume(clipOnly, 0.5, 1.5) > -25, "red clip's tone is kept");
  assert.ok(meanVolume(clipOnly, 2.5, 3.5) < -70, "blue clip has no audio: silence");
  const music = { path: keys.music, volume: 1, clip_volume: 0 };
  const { file: plain } = await render({ ...base, clips: clips.map((c) => ({ ...c, path: keys.red })), audio: music });
  const { file: ducked } = await render({
    ...base,
    clips: clips.map((c) => ({ ...c, path: keys.red })),
    audio: { ...music, ducking: { enabled: true, threshold: 0.01, ratio: 20 } },
  });
  // clip_volume 0 keeps the clips' tone out of the mix, so what is measured is the music alone.
  const [plainDb, duckedDb] = [meanVolume(plain, 0.5, 3.5), meanVolume(ducked, 0.5, 3.5)];
  assert.ok(duckedDb < plainDb - 3, `music is ducked under clip audio: ${duckedDb} vs ${plainDb} dB`);
});

test("every named transition renders in one graph", async () => {
  const clips = TRANSITION_NAMES.map((name, i) => ({
    path: i % 2 ? keys["tiny-a"] : keys["tiny-b"],
    duration: 0.4,
    transition_out: name,
    transition_duration: 0.2,
  }));
  clips.push({ path: keys["tiny-a"], duration: 0.4, transition_out: "cut", transition_duration: 0.2 });
  const { file, res } = await render({ clips, output_settings: { resolution: "64x36", fps: 10, quality: "draft" } });
  const overlaps = TRANSITION_NAMES.filter((n) => n !== "cut").length * 0.2;
  const expected = clips.length * 0.4 - overlaps;
  const p = probe(file);
  assert.equal(p.frames, Math.round(expected * 10));
  assert.equal((res.metadata as { timeline: { transitions: unknown[] } }).timeline.transitions.length, TRANSITION_NAMES.length);
});

test("codecs and containers: h265/mp4, vp9/webm, prores/mov; platform preset size", async () => {
  const clips = [{ path: keys["tiny-a"], duration: 0.5 }];
  const cases = [
    ["h265", "hevc", ".mp4"],
    ["vp9", "vp9", ".webm"],
    ["prores", "prores", ".mov"],
  ] as const;
  for (const [codec, probed, ext] of cases) {
    const { file, res } = await render({ clips, output_settings: { resolution: "128x72", fps: 10, codec, quality: "draft" } });
    assert.equal(path.extname(file), ext);
    const p = probe(file);
    assert.deepEqual([p.codec, p.width, p.height, p.frames], [probed, 128, 72, 5]);
    assert.equal((res.metadata as { codec: string }).codec, probed);
  }
  const { file } = await render({ clips: [{ path: keys["tiny-a"], duration: 0.2 }], output_settings: { platform: "Instagram Post (1:1)", quality: "draft" } });
  const p = probe(file);
  assert.deepEqual([p.width, p.height, p.fps, p.frames], [1080, 1080, 30, 6]);
});
