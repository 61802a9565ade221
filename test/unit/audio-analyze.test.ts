/**
 * analyzePcm on PCM built in the test (no decoding): edge cases must give sensible,
 * honest answers (no invented tempo), and clean synthetic signals the right values.
 */
import { test } from "vitest";
import assert from "node:assert/strict";
import { analyzePcm } from "../../plugins/audio/analyze.ts";
import { renderSong } from "../../scripts/audio-eval/song.ts";
import { shortSpecs } from "../../scripts/audio-eval/specs.ts";
import { mulberry32 } from "../../scripts/audio-eval/rng.ts";
import { beatF, keyScore, tempoAcc1 } from "../../plugins/audio/eval/metrics.ts";
import plugin from "../../plugins/audio/index.ts";
import { manifestProblems } from "../../node-agent/manifest-schema.ts";

const SR = 22050;

test("silence: bpm null, no beats, zero confidences, no key, no segments", () => {
  const r = analyzePcm(new Float32Array(SR * 10), SR);
  assert.equal(r.duration, 10);
  assert.equal(r.bpm, null);
  assert.deepEqual(r.beats, []);
  assert.deepEqual(r.downbeats, []);
  assert.equal(r.tempo_confidence, 0);
  assert.equal(r.beat_confidence, 0);
  assert.equal(r.key, null);
  assert.equal(r.key_confidence, 0);
  assert.deepEqual(r.segments, []);
  assert.equal(r.time_signature, null);
  assert.ok(r.energy && r.energy.values.every((v) => v === 0));
});

test("a 1 s clip has no tempo (too short) but still reports its duration", () => {
  const x = new Float32Array(SR);
  for (let i = 0; i < x.length; i++) x[i] = 0.3 * Math.sin((2 * Math.PI * 440 * i) / SR);
  const r = analyzePcm(x, SR);
  assert.equal(r.duration, 1);
  assert.equal(r.bpm, null);
  assert.deepEqual(r.beats, []);
  assert.equal(r.tempo_confidence, 0);
});

test("white noise: no tempo, no beats, no key, one section", () => {
  const rng = mulberry32(7);
  const x = new Float32Array(SR * 12);
  for (let i = 0; i < x.length; i++) x[i] = 0.3 * (rng() * 2 - 1);
  const r = analyzePcm(x, SR);
  assert.equal(r.bpm, null);
  assert.deepEqual(r.beats, []);
  assert.ok((r.tempo_confidence ?? 1) < 0.3, `tempo_confidence ${r.tempo_confidence}`);
  assert.equal(r.key, null);
  assert.equal(r.segments?.length, 1);
});

test("a click track at 100 BPM is found with its beats", () => {
  const x = new Float32Array(SR * 20);
  const ref: number[] = [];
  for (let t = 0.5; t < 19.5; t += 0.6) {
    ref.push(t);
    const a = Math.round(t * SR);
    for (let i = 0; i < 400; i++) x[a + i] = Math.sin((2 * Math.PI * 1000 * i) / SR) * Math.exp(-i / 80);
  }
  const r = analyzePcm(x, SR, { analysisType: "beats" });
  assert.ok(tempoAcc1(100, r.bpm), `bpm ${r.bpm}`);
  assert.ok(beatF(ref, r.beats ?? []) > 0.95);
  assert.equal(r.key, undefined, "beats analysis does not compute a key");
});

test("a rendered song: tempo, beats, key and sections; narrower analysis types return only their parts", () => {
  const spec = shortSpecs()[0]!;
  const { audio, truth } = renderSong(spec, SR);
  const r = analyzePcm(audio, SR);
  assert.ok(tempoAcc1(truth.bpm, r.bpm), `bpm ${r.bpm} vs ${truth.bpm}`);
  assert.ok(beatF(truth.beats, r.beats ?? []) >= 0.95);
  assert.equal(keyScore(truth.key, r.key), 1);
  assert.equal(r.time_signature, "4/4");
  assert.ok((r.segments ?? []).length >= 3);
  assert.equal(r.segments?.[0]?.start, 0);
  assert.equal(r.segments?.at(-1)?.end, r.duration);
  assert.ok(r.energy && Math.abs(r.energy.values.length * r.energy.hop_s - r.duration) < 0.5);
  const key = analyzePcm(audio, SR, { analysisType: "key" });
  assert.deepEqual(Object.keys(key).sort(), ["analysis_type", "duration", "key", "key_confidence"]);
  const tempo = analyzePcm(audio, SR, { analysisType: "tempo" });
  assert.deepEqual(Object.keys(tempo).sort(), ["analysis_type", "beat_tracker", "bpm", "bpm_alternative", "duration", "tempo_confidence"]);
  const structure = analyzePcm(audio, SR, { analysisType: "structure" });
  assert.deepEqual(Object.keys(structure).sort(), ["analysis_type", "duration", "energy", "segments"]);
  assert.deepEqual(structure.segments, r.segments, "structure alone segments like the full analysis");
});

test("a tempo change (100 -> 125 BPM mid-song) is followed: beats stay on the new grid", () => {
  const spec = { ...shortSpecs()[0]!, bpm: 100, tempoChange: { atBar: 10, bpm: 125 } };
  const { audio, truth } = renderSong(spec, SR);
  const r = analyzePcm(audio, SR, { analysisType: "beats" });
  const change = truth.downbeats[10]!;
  const after = (xs: number[]) => xs.filter((t) => t >= change + 2);
  // Within ~2 s of the change the tracker has re-locked to the faster tempo.
  assert.ok(beatF(after(truth.beats), after(r.beats ?? [])) >= 0.95);
  assert.ok(beatF(truth.beats, r.beats ?? []) >= 0.93);
  assert.ok(tempoAcc1(truth.bpm, r.bpm), `bpm ${r.bpm} vs ${truth.bpm}`);
});

test("analysis stops when the signal is aborted", () => {
  const ac = new AbortController();
  ac.abort(new Error("cancelled by test"));
  assert.throws(() => analyzePcm(new Float32Array(SR * 30).fill(0.1), SR, { signal: ac.signal }), /cancelled by test/);
});

test("the plugin manifest is valid and declares both job types", () => {
  assert.deepEqual(manifestProblems(plugin.manifest, "audio"), []);
  assert.deepEqual(
    plugin.manifest.job_types.map((j) => j.type),
    ["audio.analyze", "audio.detect_beats"],
  );
  assert.equal(plugin.manifest.runtime, "cpu");
});
