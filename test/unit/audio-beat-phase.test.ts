/**
 * Beat phase check (plugins/audio/dsp/beat-phase.ts) and the local tempo range
 * (localTempoCurve), on drum envelopes built in the test: a one-drop bar (kick and rim on
 * beat three, hats on the beats, a skank on every "and") and an 8-beat rock bar with
 * off-beat kicks; the bar template (bar-template.ts) on an oom-pah tracked on its "pah" and on
 * a groove with its kick on the "and"s. The rendered-audio versions are in audio-metrical.test.ts.
 */
import { test } from "vitest";
import assert from "node:assert/strict";
import { checkBeatPhase } from "../../plugins/audio/dsp/beat-phase.ts";
import { localTempoCurve } from "../../plugins/audio/dsp/tempo.ts";
import type { PercussiveOnsets } from "../../plugins/audio/dsp/percussive.ts";
import { barTemplateEvidence, BACKBEAT_MARGIN, KICK_MARGIN } from "../../plugins/audio/dsp/bar-template.ts";

const FR = 100; // frames per second
const BEAT = 0.8; // seconds (75 BPM)
const BARS = 16;

/** Onset envelopes with hits at (beat position in the bar, register, strength), repeated for BARS bars. */
function drums(hits: [number, "sub" | "low" | "mid" | "high", number][]): PercussiveOnsets {
  const n = Math.ceil(BARS * 4 * BEAT * FR) + FR;
  const p: PercussiveOnsets = { low: new Float32Array(n), mid: new Float32Array(n), high: new Float32Array(n), sub: new Float32Array(n) };
  for (let bar = 0; bar < BARS; bar++) {
    for (const [pos, reg, v] of hits) {
      const f = Math.round((bar * 4 + pos) * BEAT * FR);
      p[reg][f] = (p[reg][f] as number) + v;
    }
  }
  return p;
}

const grid = (offset: number) => Array.from({ length: BARS * 4 }, (_, i) => (i + offset) * BEAT);

// One-drop: kick + rim on beat 3 (position 2), hats on the beats, the skank (mid and high
// transients) on every "and", more often than any drum.
const oneDrop = drums([
  [2, "low", 1.2],
  [2, "mid", 1.0],
  ...[0, 1, 2, 3].map((b) => [b, "high", 0.5] as [number, "high", number]),
  ...[0.5, 1.5, 2.5, 3.5].flatMap(
    (b) =>
      [
        [b, "mid", 0.8],
        [b, "high", 0.7],
      ] as [number, "mid" | "high", number][],
  ),
]);

test("a grid locked to the skank's off-beats is moved onto the beat", () => {
  const r = checkBeatPhase(grid(0.5), oneDrop, FR);
  assert.equal(r.shifted, true, `contrast ${r.contrast}`);
  assert.equal(r.times.length, BARS * 4 - 1);
  r.times.forEach((t, i) => assert.ok(Math.abs(t - (i + 1) * BEAT) < 0.02, `beat ${i} at ${t}`));
});

test("a grid already on the one-drop's beats stays", () => {
  const r = checkBeatPhase(grid(0), oneDrop, FR);
  assert.equal(r.shifted, false, `contrast ${r.contrast}`);
  assert.deepEqual(r.times, grid(0));
});

test("8-beat rock with kicks on the 'and' of 2 keeps its grid (accents spread over both)", () => {
  const rock = drums([
    [0, "low", 1.0],
    [1.5, "low", 0.9],
    [2, "low", 0.8],
    [1, "mid", 1.0],
    [3, "mid", 1.0],
    ...[0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5].map((b) => [b, "high", 0.6] as [number, "high", number]),
  ]);
  const r = checkBeatPhase(grid(0), rock, FR);
  assert.equal(r.shifted, false, `contrast ${r.contrast}`);
});

// Oom-pah (the Freedoom D_COUNTD case): the "oom" alternates the bass drum (beats 1 and 3,
// its fundamental below 80 Hz) with a low tom (2 and 4); the "pah", snare and hi-hat chick
// on every "and", is the loudest periodic onset, so the tracker sits on it and the accent
// profile looks right. The bar template sees the kick and the alternation on the "and"s.
const oomPah = drums([
  ...[0, 2].flatMap((b) => [[b, "sub", 1.0] as [number, "sub", number], [b, "low", 0.8] as [number, "low", number]]),
  ...[1, 3].map((b) => [b, "mid", 0.5] as [number, "mid", number]),
  ...[0.5, 1.5, 2.5, 3.5].flatMap((b) => [[b, "mid", 1.0] as [number, "mid", number], [b, "high", 0.8] as [number, "high", number]]),
]);

test("an oom-pah grid locked to the 'pah' on every 'and' is moved onto the beat (bar template)", () => {
  const r = checkBeatPhase(grid(0.5), oomPah, FR);
  assert.ok(r.contrast > -0.3, `the accent check alone would keep it (contrast ${r.contrast})`);
  assert.equal(r.shifted, true);
  r.times.forEach((t, i) => assert.ok(Math.abs(t - (i + 1) * BEAT) < 0.02, `beat ${i} at ${t}`));
});

test("the oom-pah tracked on its beats stays", () => {
  const r = checkBeatPhase(grid(0), oomPah, FR);
  assert.equal(r.shifted, false, `contrast ${r.contrast}`);
});

test("a kick on the 'and's with the snare alternating on the beats keeps its grid (D_DDTBLU)", () => {
  const g = drums([
    ...[0.5, 2.5].flatMap((b) => [[b, "sub", 1.0] as [number, "sub", number], [b, "low", 1.0] as [number, "low", number]]),
    ...[1, 3].flatMap((b) => [[b, "mid", 1.0] as [number, "mid", number], [b, "high", 1.0] as [number, "high", number]]),
    ...[0, 1, 2, 3].map((b) => [b, "high", 0.5] as [number, "high", number]),
  ]);
  const r = checkBeatPhase(grid(0), g, FR);
  assert.equal(r.shifted, false, `contrast ${r.contrast}`);
});

test("bar-template evidence: kick and backbeat each say which phase, and both are needed", () => {
  const pts = grid(0.5).flatMap((t) => [t, t + BEAT / 2]);
  const e = barTemplateEvidence(oomPah, FR, pts);
  assert.ok(e.kick < -KICK_MARGIN && e.backbeat < -BACKBEAT_MARGIN && e.otherPhase, JSON.stringify(e));
  // The kick alone (no tom, no alternation): not enough.
  const kickOnly = drums([[0, "sub", 1.0], [2, "sub", 1.0], ...[0.5, 1.5, 2.5, 3.5].map((b) => [b, "mid", 1.0] as [number, "mid", number])]);
  const k = barTemplateEvidence(kickOnly, FR, pts);
  assert.ok(k.kick < -KICK_MARGIN && !k.otherPhase, JSON.stringify(k));
  // Too few points: no decision.
  assert.equal(barTemplateEvidence(oomPah, FR, pts.slice(0, 40)).otherPhase, false);
});

test("too few bars: no decision", () => {
  const r = checkBeatPhase(grid(0.5).slice(0, 12), oneDrop, FR);
  assert.equal(r.shifted, false);
});

test("the local tempo stays within 1.3x of the chosen level when the envelope repeats at 3/2 of it", () => {
  // Hits every 1.5 beats only (a dotted figure): the chosen level is the beat.
  const period = BEAT * FR;
  const n = 60 * FR;
  const onset = new Float32Array(n);
  for (let f = 0; f < n; f += Math.round(1.5 * period)) onset[f] = 1;
  const curve = localTempoCurve(onset, FR, period);
  for (const p of curve) assert.ok(p >= period / 1.3 - 1 && p <= period * 1.3 + 1, `local period ${p} vs ${period}`);
});
