/**
 * The audio plugin end to end: artifact key → ffmpeg decode → analysis, on MP3s
 * rendered by the eval generator (the CI subset: four 25-50 s songs), asserting the
 * issue's accuracy targets on that subset, plus bad-input and cancellation behaviour.
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import plugin from "../../plugins/audio/index.ts";
import { makeTaskContext, type TestTaskContext } from "../helpers/task-context.ts";
import { generateSet, type GeneratedSong } from "../../scripts/audio-eval/generate.ts";
import { beatF, boundaryHitRate, keyScore, tempoAcc1 } from "../../plugins/audio/eval/metrics.ts";
import { FarmError } from "../../core/errors.ts";
import type { AudioAnalysis } from "../../plugins/audio/types.ts";
import { BEAT_NET_FILE } from "../../plugins/audio/beat-net/model.ts";
import { buildTinyBeatNet } from "../fixtures/beat-net/tiny-beat-net.ts";
import { loadPlugins } from "../../node-agent/plugin-loader.ts";
import { buildConfig } from "../../core/config/load.ts";

let dir = "";
let songs: GeneratedSong[] = [];
let ctx: TestTaskContext;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "audio-it-"));
  songs = generateSet(dir, "short");
  ctx = makeTaskContext();
});
afterAll(() => {
  ctx.cleanup();
  fs.rmSync(dir, { recursive: true, force: true });
});

const task = (type: string, params: Record<string, unknown>) => ({ job_id: "j1", type, params, attempt: 1 });

async function upload(file: string, key: string): Promise<string> {
  await ctx.artifacts.putFile(key, file);
  return key;
}

test("audio.analyze meets the accuracy targets on the CI subset of generated songs", async () => {
  const agg = { acc1: 0, beat: 0, down: 0, key: 0, bnd: 0 };
  for (const s of songs) {
    const key = await upload(s.mp3Path, `uploads/${s.truth.id}.mp3`);
    const r = (await plugin.run(task("audio.analyze", { audio_path: key, analysis_type: "full" }), ctx)) as unknown as AudioAnalysis;
    const t = s.truth;
    agg.acc1 += +tempoAcc1(t.bpm, r.bpm);
    agg.beat += beatF(t.beats, r.beats ?? []);
    agg.down += beatF(t.downbeats, r.downbeats ?? []);
    agg.key += keyScore(t.key, r.key);
    agg.bnd += boundaryHitRate(t.boundaries, r.segments ?? []).f;
    assert.equal(r.time_signature, t.time_signature, `${t.id} meter`);
    assert.ok(Math.abs(r.duration - t.duration) < 0.2, `${t.id} duration ${r.duration} vs ${t.duration}`);
    for (const seg of r.segments ?? []) assert.ok(["intro", "verse", "chorus", "bridge", "outro"].includes(seg.type));
    assert.ok(r.beats?.every((b) => Math.round(b * 1000) === b * 1000 || Math.abs(Math.round(b * 1000) - b * 1000) < 1e-6));
  }
  const n = songs.length;
  assert.ok(agg.acc1 / n >= 0.95, `tempo Acc1 ${agg.acc1}/${n}`);
  assert.ok(agg.beat / n >= 0.95, `beat F ${agg.beat / n}`);
  assert.ok(agg.down / n >= 0.85, `downbeat F ${agg.down / n}`);
  assert.ok(agg.key / n >= 0.9, `key ${agg.key / n}`);
  assert.ok(agg.bnd / n >= 0.7, `boundaries ${agg.bnd / n}`);
  const stages = ctx.progressLog.map((p) => p.message);
  for (const stage of ["decoding", "onset envelope", "tempo", "beats", "key", "sections"]) assert.ok(stages.includes(stage), `progress ${stage}`);
});

test("audio.detect_beats returns the fast beat result only", async () => {
  const s = songs[1]!;
  const key = await upload(s.mp3Path, `uploads/beats-${s.truth.id}.mp3`);
  const r = await plugin.run(task("audio.detect_beats", { audio_path: key }), ctx);
  assert.deepEqual(Object.keys(r).sort(), [
    "beat_confidence",
    "beat_tracker",
    "beats",
    "bpm",
    "bpm_alternative",
    "downbeat_confidence",
    "downbeats",
    "duration",
    "meter_confidence",
    "tempo_confidence",
    "time_signature",
  ]);
  assert.ok(tempoAcc1(s.truth.bpm, r.bpm as number));
  assert.equal(r.beat_tracker, "dsp", "no beat network in this node's models folder");
});

test("a node with a beat network in its models folder tracks beats with it; a broken one leaves a warning", async () => {
  const s = songs[1]!;
  const key = await upload(s.mp3Path, `uploads/net-${s.truth.id}.mp3`);
  const withNet = makeTaskContext({ artifacts: ctx.artifacts });
  try {
    buildTinyBeatNet(path.join(withNet.modelsDir, BEAT_NET_FILE));
    const r = await plugin.run(task("audio.detect_beats", { audio_path: key }), withNet);
    assert.equal(r.beat_tracker, "network");
    assert.equal(r.warnings, undefined);
    assert.ok(Array.isArray(r.beats) && r.beats.length > 10);
    // The operator's file is damaged: the job still answers, from the DSP, and says why.
    fs.writeFileSync(path.join(withNet.modelsDir, BEAT_NET_FILE), "damaged");
    const b = await plugin.run(task("audio.detect_beats", { audio_path: key }), withNet);
    assert.equal(b.beat_tracker, "dsp");
    assert.match((b.warnings as string[])[0]!, /beat network .*beat-tcn\.onnx could not be loaded/);
    assert.ok(tempoAcc1(s.truth.bpm, b.bpm as number));
    // Turned off in the plugin's config: the file is not even read.
    const off = makeTaskContext({ artifacts: ctx.artifacts, modelsDir: withNet.modelsDir, config: { beat_model: false } });
    const o = await plugin.run(task("audio.detect_beats", { audio_path: key }), off);
    off.cleanup();
    assert.equal(o.beat_tracker, "dsp");
    assert.equal(o.warnings, undefined);
  } finally {
    withNet.cleanup();
  }
});

test("other containers decode too: the audio track of an mp4 video, and flac", async () => {
  const s = songs[0]!;
  const mp4 = path.join(dir, "clip.mp4");
  const flac = path.join(dir, "clip.flac");
  const v = spawnSync("ffmpeg", [
    "-v",
    "error",
    "-y",
    "-f",
    "lavfi",
    "-i",
    "color=c=black:s=64x64:r=10",
    "-i",
    s.mp3Path,
    "-shortest",
    "-c:v",
    "mpeg4",
    "-c:a",
    "aac",
    mp4,
  ]);
  assert.equal(v.status, 0, v.stderr.toString());
  assert.equal(spawnSync("ffmpeg", ["-v", "error", "-y", "-i", s.mp3Path, flac]).status, 0);
  for (const file of [mp4, flac]) {
    const key = await upload(file, `uploads/${path.basename(file)}`);
    const r = await plugin.run(task("audio.analyze", { audio_path: key, analysis_type: "tempo" }), ctx);
    assert.ok(tempoAcc1(s.truth.bpm, r.bpm as number), `${file}: ${r.bpm}`);
  }
});

async function expectValidation(p: Promise<unknown>, field: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof FarmError && e.code === "VALIDATION_ERROR" && e.details?.field === field);
}

test("corrupt or non-audio input is a VALIDATION_ERROR on audio_path", async () => {
  const junk = path.join(dir, "junk.mp3");
  fs.writeFileSync(junk, Buffer.from("this is not audio at all, just text pretending to be an mp3".repeat(50)));
  await expectValidation(plugin.run(task("audio.analyze", { audio_path: await upload(junk, "uploads/junk.mp3") }), ctx), "audio_path");
  const truncated = path.join(dir, "trunc.mp3");
  fs.writeFileSync(truncated, fs.readFileSync(songs[0]!.mp3Path).subarray(0, 300));
  await expectValidation(plugin.run(task("audio.analyze", { audio_path: await upload(truncated, "uploads/trunc.mp3") }), ctx), "audio_path");
  await expectValidation(plugin.run(task("audio.analyze", { audio_path: "uploads/missing.mp3" }), ctx), "audio_path");
  await expectValidation(plugin.run(task("audio.analyze", { audio_path: "../etc/passwd" }), ctx), "audio_path");
  await expectValidation(plugin.run(task("audio.analyze", {}), ctx), "audio_path");
  await expectValidation(plugin.run(task("audio.analyze", { audio_path: "uploads/junk.mp3", analysis_type: "mood" }), ctx), "analysis_type");
});

test("a silent file and a 1 s clip give honest empty answers, not errors", async () => {
  const silent = path.join(dir, "silence.wav");
  const short = path.join(dir, "short.ogg");
  assert.equal(spawnSync("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "anullsrc=r=44100:cl=stereo", "-t", "8", silent]).status, 0);
  assert.equal(spawnSync("ffmpeg", ["-v", "error", "-y", "-i", songs[0]!.mp3Path, "-ss", "10", "-t", "1", "-c:a", "libvorbis", short]).status, 0);
  const s = await plugin.run(task("audio.analyze", { audio_path: await upload(silent, "uploads/silence.wav") }), ctx);
  assert.equal(s.bpm, null);
  assert.deepEqual(s.beats, []);
  assert.equal(s.key, null);
  assert.equal(s.tempo_confidence, 0);
  const c = await plugin.run(task("audio.detect_beats", { audio_path: await upload(short, "uploads/short.ogg") }), ctx);
  assert.equal(c.bpm, null);
  assert.deepEqual(c.beats, []);
  assert.ok(Math.abs((c.duration as number) - 1) < 0.1);
});

test("cancelling the task stops the job and kills ffmpeg", async () => {
  const local = makeTaskContext({ artifacts: ctx.artifacts });
  const tracked: { pid?: number }[] = [];
  const orig = local.trackChild;
  local.trackChild = (c) => {
    tracked.push(c);
    orig(c);
  };
  const key = `uploads/${songs[1]!.truth.id}.mp3`;
  const p = plugin.run(task("audio.analyze", { audio_path: key }), local);
  // Abort as soon as ffmpeg is running.
  const started = Date.now();
  while (tracked.length === 0 && Date.now() - started < 10000) await new Promise((r) => setTimeout(r, 2));
  local.abort();
  await assert.rejects(p);
  assert.equal(tracked.length, 1);
  const pid = tracked[0]!.pid as number;
  assert.throws(() => process.kill(pid, 0), /ESRCH/, "ffmpeg must not outlive the cancelled job");
  local.cleanup();
});

test("a node lists the beat network as offered when its file is in the models folder, absent with the path otherwise", async () => {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), "audio-models-"));
  try {
    const cfg = buildConfig({ paths: { data_dir: data }, agent: { plugins: ["audio"] } });
    const file = path.join(cfg.paths.models, BEAT_NET_FILE);
    const without = await loadPlugins(cfg);
    assert.deepEqual(without.unavailableModels(), [{ plugin: "audio", model_id: "beat-tcn", missing: [file] }]);
    // The analysis job types never require it.
    assert.deepEqual(without.capabilities().models["audio.analyze"], []);
    buildTinyBeatNet(file);
    const withNet = await loadPlugins(cfg);
    assert.deepEqual(withNet.unavailableModels(), []);
  } finally {
    fs.rmSync(data, { recursive: true, force: true });
  }
});
