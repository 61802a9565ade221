/**
 * The beat network's loading and use (plugins/audio/beat-net/model.ts, analyze.ts), run
 * for real on onnxruntime-node with a stand-in network the test builds
 * (test/fixtures/beat-net/tiny-beat-net.ts: the trained model's file contract, one
 * convolution instead of the TCN; the farm ships no weights).
 */
import { test, beforeAll, afterAll } from "vitest";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { BeatNet, BEAT_NET_FILE, beatNetFor } from "../../plugins/audio/beat-net/model.ts";
import { analyzePcm } from "../../plugins/audio/analyze.ts";
import { analyzePcmOffThread } from "../../plugins/audio/off-thread.ts";
import { frameFeatures } from "../../plugins/audio/dsp/features.ts";
import { beatModelPath } from "../../plugins/audio/index.ts";
import { buildTinyBeatNet } from "../fixtures/beat-net/tiny-beat-net.ts";

const SR = 22050;
let dir: string;
let good: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "beat-net-"));
  good = buildTinyBeatNet(path.join(dir, "tiny.onnx"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Clicks at `bpm` over a quiet tone; every `accentEvery`-th click louder and lower (a kick). */
function clicks(seconds: number, bpm: number, accentEvery = 0): Float32Array {
  const x = new Float32Array(seconds * SR);
  const period = 60 / bpm;
  for (let i = 0; i < x.length; i++) {
    const t = i / SR;
    const k = Math.floor(t / period);
    const inClick = t - k * period < 0.02;
    const accent = accentEvery > 0 && k % accentEvery === 0;
    x[i] =
      0.05 * Math.sin(2 * Math.PI * 220 * t) + (inClick ? (accent ? 0.9 * Math.sin(2 * Math.PI * 60 * t) : 0) + 0.6 * Math.sin(2 * Math.PI * 1000 * t) : 0);
  }
  return x;
}

test("activations: one beat and one downbeat value per feature frame, peaks at the onsets", async () => {
  const net = await BeatNet.load(good, 1);
  const x = clicks(10, 120);
  const f = frameFeatures(x, SR);
  const a = await net.activations(f);
  assert.equal(a.beat.length, f.nFrames);
  assert.equal(a.downbeat.length, f.nFrames);
  const at = (t: number) => Math.max(...Array.from(a.beat.subarray(Math.round(t * f.frameRate) - 1, Math.round(t * f.frameRate) + 3)));
  const mid = (t: number) => a.beat[Math.round(t * f.frameRate)] as number;
  for (const t of [1, 2.5, 7]) assert.ok(at(t) > 0.5 && mid(t + 0.25) < 0.1, `at ${t}s: ${at(t)} on the click, ${mid(t + 0.25)} between`);
  await net.dispose();
});

test("a missing, unreadable or wrongly shaped network is a MODEL_ERROR naming the file", async () => {
  const missing = path.join(dir, "none.onnx");
  await assert.rejects(BeatNet.load(missing), (e: { code: string; message: string }) => e.code === "MODEL_ERROR" && e.message.includes(missing));
  const junk = path.join(dir, "junk.onnx");
  fs.writeFileSync(junk, "not a protobuf at all");
  await assert.rejects(BeatNet.load(junk), (e: { code: string; message: string }) => e.code === "MODEL_ERROR" && e.message.includes(junk));
  // One output row: loads (its contract is only known when it runs), refuses to answer.
  const oneRow = await BeatNet.load(buildTinyBeatNet(path.join(dir, "one-row.onnx"), { rows: 1 }));
  const f = frameFeatures(clicks(3, 120), SR);
  await assert.rejects(oneRow.activations(f), (e: { code: string; message: string }) => e.code === "MODEL_ERROR" && /expected \[1, 2, \d+\]/.test(e.message));
});

test("beatNetFor loads a file once and again when the operator replaces it", async () => {
  const file = path.join(dir, "cached.onnx");
  fs.copyFileSync(good, file);
  const a = await beatNetFor(file);
  assert.equal(await beatNetFor(file), a);
  buildTinyBeatNet(file, { rows: 1 });
  fs.utimesSync(file, new Date(), new Date(Date.now() + 5000));
  const b = await beatNetFor(file);
  assert.notEqual(b, a);
});

test("the analysis follows the network: its tempo family wins over the onsets', beats sit on its activation", () => {
  // The audio clicks at 120 BPM; the (hand-made) activation pulses at 90 BPM, a 3:4
  // relation. The level is chosen only among half, one or two times the network's period
  // (45, 90, 180 BPM), so never the onsets' 120.
  const x = clicks(30, 120);
  const f = frameFeatures(x, SR);
  const beat = new Float32Array(f.nFrames).fill(0.02);
  const period = (60 / 90) * f.frameRate;
  for (let k = 0; k * period < f.nFrames; k++) beat[Math.round(k * period)] = 1;
  const r = analyzePcm(x, SR, { analysisType: "beats", features: f, activation: { beat, downbeat: new Float32Array(f.nFrames) } });
  const dsp = analyzePcm(x, SR, { analysisType: "beats" });
  assert.equal(r.beat_tracker, "network");
  assert.equal(dsp.beat_tracker, "dsp");
  assert.ok(dsp.bpm !== null && dsp.bpm !== undefined && Math.abs(dsp.bpm - 120) < 2, `dsp ${dsp.bpm}`);
  assert.ok(r.bpm !== null && r.bpm !== undefined && [90, 180].some((b) => Math.abs(r.bpm! / b - 1) < 0.04), `network-led bpm ${r.bpm}`);
  // Every reported beat sits on (or, at 180, between) the activation's pulses.
  const half = 1 / 3;
  for (const t of r.beats!) {
    const off = Math.abs(t / half - Math.round(t / half)) * half;
    assert.ok(off < 0.03, `beat ${t} is ${off.toFixed(3)} s off the activation's grid`);
  }
});

test("the downbeat activation places the bar line", () => {
  // Even clicks, no accent: the DSP has no bar evidence. The downbeat activation marks
  // every fourth beat starting from the second (t = 0.5 s).
  const x = clicks(30, 120);
  const f = frameFeatures(x, SR);
  const beat = new Float32Array(f.nFrames).fill(0.02);
  const downbeat = new Float32Array(f.nFrames).fill(0.02);
  for (let k = 0; k * 0.5 * f.frameRate < f.nFrames; k++) {
    const fr = Math.round(k * 0.5 * f.frameRate);
    beat[fr] = 1;
    if (k % 4 === 1) downbeat[fr] = 1;
  }
  const r = analyzePcm(x, SR, { analysisType: "beats", features: f, activation: { beat, downbeat } });
  assert.equal(r.time_signature, "4/4");
  assert.ok(r.downbeats!.length >= 10, `downbeats ${r.downbeats}`);
  for (const t of r.downbeats!) assert.ok(Math.abs(((t - 0.5) / 2) % 1) < 0.02 || Math.abs(((t - 0.5) / 2) % 1) > 0.98, `downbeat at ${t}`);
});

test("off-thread with the node's network: same answer as in-thread; a broken file leaves the DSP answer and a warning", async () => {
  const x = clicks(20, 120, 4);
  const r = await analyzePcmOffThread(x, SR, { analysisType: "beats", beatModel: good });
  const net = await BeatNet.load(good);
  const f = frameFeatures(x, SR);
  const same = analyzePcm(x, SR, { analysisType: "beats", features: f, activation: await net.activations(f) });
  assert.deepEqual(r, same);
  assert.equal(r.beat_tracker, "network");
  assert.ok(r.bpm !== null && r.bpm !== undefined && Math.abs(r.bpm - 120) < 2, `bpm ${r.bpm}`);

  const junk = path.join(dir, "broken.onnx");
  fs.writeFileSync(junk, Buffer.alloc(64, 7));
  const b = await analyzePcmOffThread(x, SR, { analysisType: "beats", beatModel: junk });
  assert.equal(b.beat_tracker, "dsp");
  assert.deepEqual(b.warnings?.length, 1);
  assert.match(b.warnings![0]!, /beat network .*broken\.onnx could not be loaded.*beats tracked without it/);
  const { warnings: _, ...rest } = b;
  assert.deepEqual(rest, analyzePcm(x, SR, { analysisType: "beats" }));
  // The key alone never needs the network: not loaded, no warning.
  const k = await analyzePcmOffThread(x, SR, { analysisType: "key", beatModel: junk });
  assert.equal(k.warnings, undefined);
});

test("beatModelPath: the default file when present, a configured path, or none", () => {
  const models = fs.mkdtempSync(path.join(dir, "models-"));
  assert.equal(beatModelPath({}, models), undefined);
  const file = path.join(models, BEAT_NET_FILE);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.copyFileSync(good, file);
  assert.equal(beatModelPath({}, models), file);
  assert.equal(beatModelPath({ beat_model: false }, models), undefined);
  assert.equal(beatModelPath({ beat_model: "mine/net.onnx" }, models), path.join(models, "mine/net.onnx"));
  assert.equal(beatModelPath({ beat_model: "/abs/net.onnx" }, models), "/abs/net.onnx");
});
