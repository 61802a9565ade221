import { test } from "vitest";
import assert from "node:assert/strict";
import { beatF, boundaryHitRate, keyScore, labelAccuracy, matchEvents, tempoAcc1, tempoAcc2 } from "../../plugins/audio/eval/metrics.ts";

test("beat F-measure counts each reference beat once within ±70 ms", () => {
  const ref = [1, 2, 3, 4];
  assert.equal(beatF(ref, [1.05, 2.06, 3, 4.02]), 1);
  // 2.08 is outside the window; a doubled estimate near 3 matches only once.
  const r = matchEvents(ref, [1, 2.08, 3, 3.01, 4], 0.07);
  assert.equal(r.recall, 0.75);
  assert.equal(r.precision, 0.6);
  assert.equal(beatF([], []), 1);
  assert.equal(beatF(ref, []), 0);
});

test("tempo Acc1 treats octave errors as misses, Acc2 allows them", () => {
  assert.equal(tempoAcc1(120, 123), true);
  assert.equal(tempoAcc1(120, 126), false);
  assert.equal(tempoAcc1(120, 60), false);
  assert.equal(tempoAcc2(120, 60), true);
  assert.equal(tempoAcc2(120, 240.5), true);
  assert.equal(tempoAcc2(90, 30), true);
  assert.equal(tempoAcc1(120, null), false);
});

test("key score follows the MIREX weights", () => {
  assert.equal(keyScore("C major", "C major"), 1);
  assert.equal(keyScore("C major", "G major"), 0.5);
  assert.equal(keyScore("C major", "A minor"), 0.3);
  assert.equal(keyScore("A minor", "C major"), 0.3);
  assert.equal(keyScore("C major", "C minor"), 0.2);
  assert.equal(keyScore("C major", "F# major"), 0);
  assert.equal(keyScore("C major", null), 0);
});

test("boundary hit rate ignores the song start and matches within ±3 s", () => {
  const segs = [
    { start: 0, end: 10 },
    { start: 10.5, end: 30 },
    { start: 30, end: 50 },
  ];
  const r = boundaryHitRate([8, 32, 45], segs);
  assert.equal(r.recall, 2 / 3);
  assert.equal(r.precision, 1);
});

test("label accuracy is the share of time with the right section type", () => {
  const ref = [
    { start: 0, end: 10, type: "intro" },
    { start: 10, end: 20, type: "verse" },
  ];
  assert.equal(labelAccuracy(ref, ref), 1);
  assert.equal(labelAccuracy(ref, [{ start: 0, end: 20, type: "verse" }]), 0.5);
});
