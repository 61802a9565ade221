/**
 * plugins/audio/dsp/triple-bar.ts: a compound beat whose drums do not alternate from one
 * beat to the next is a bar of three beats (issue 12, the fast waltz heard at 60).
 * Per-beat drum cues are built here as the z-scored series barCues() would give.
 */
import { test } from "vitest";
import assert from "node:assert/strict";
import { drumAlternation, isBarOfThree, MIN_COMPOUND_ALTERNATION, splitInThree } from "../../plugins/audio/dsp/triple-bar.ts";
import { zscore } from "../../plugins/audio/dsp/bar-cues.ts";

/** A per-beat cue repeating `pattern`, with a little deterministic noise, z-scored. */
function cue(pattern: number[], n = 48): Float64Array {
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = (pattern[i % pattern.length] as number) + 0.2 * Math.sin(i * 1.7);
  return zscore(v);
}

test("12/8: kick on 1 and 3, backbeat on 2 and 4 alternate: a compound beat, not a bar", () => {
  const cues = [cue([1, 0, 0.5, 0]), cue([1, 0, 1, 0]), cue([0, 1, 0, 1])];
  assert.ok(drumAlternation(cues) > MIN_COMPOUND_ALTERNATION, `alternation ${drumAlternation(cues)}`);
  assert.equal(isBarOfThree(cues), false);
});

test("fast waltz read at the bar: every tracked beat holds the same drums: a bar of three", () => {
  // Each tracked "beat" is one waltz bar: same kick and snare, chords changing now and then.
  const cues = [cue([1, 0.2, 0.8, 0]), cue([1]), cue([1])];
  assert.ok(drumAlternation(cues) < MIN_COMPOUND_ALTERNATION, `alternation ${drumAlternation(cues)}`);
  assert.equal(isBarOfThree(cues), true);
  // Too few beats to tell: never split.
  assert.equal(isBarOfThree([cue([1], 6), cue([1], 6), cue([1], 6)]), false);
});

test("splitInThree: each interval divided in three, the last beat kept", () => {
  assert.deepEqual(splitInThree([0, 0.9, 1.8]), [0, 0.3, 0.6, 0.9, 1.2, 1.5, 1.8]);
  assert.deepEqual(splitInThree([2]), [2]);
  assert.deepEqual(splitInThree([]), []);
});
