/**
 * Regression: a tracker that slipped below the chosen metrical level reported country at 159
 * BPM as 323 (the dev set's tempo sweep), over the 240 BPM ceiling of the level search.
 * thinToMaxBpm keeps every other beat, on the phase with the stronger onsets.
 */
import { expect, test } from "vitest";
import { thinToMaxBpm } from "../../plugins/audio/dsp/beat-track.ts";
import { MAX_BPM } from "../../plugins/audio/dsp/tempo-level.ts";

const FRAME_RATE = 100;

/** Beats every `step` frames, onsets of `strong` on beats of one parity and `weak` on the other. */
function grid(step: number, count: number, strongParity: 0 | 1): { beats: number[]; onset: Float32Array } {
  const beats = Array.from({ length: count }, (_, i) => 10 + i * step);
  const onset = new Float32Array(10 + count * step + 10);
  beats.forEach((b, i) => (onset[b] = i % 2 === strongParity ? 1 : 0.3));
  return { beats, onset };
}

const bpmOf = (beats: number[]) => (60 * FRAME_RATE) / ((beats[beats.length - 1]! - beats[0]!) / (beats.length - 1));

test("beats at 320 BPM are thinned to 160 on the accented phase", () => {
  for (const parity of [0, 1] as const) {
    const { beats, onset } = grid(19, 40, parity); // 100/19*60 = 316 BPM
    const out = thinToMaxBpm(beats, FRAME_RATE, onset, MAX_BPM);
    expect(out.length).toBe(20);
    expect(bpmOf(out)).toBeCloseTo(158, 0);
    for (const b of out) expect(onset[b]).toBe(1);
  }
});

test("beats within the range are kept as they are", () => {
  const { beats, onset } = grid(40, 30, 0); // 150 BPM
  expect(thinToMaxBpm(beats, FRAME_RATE, onset, MAX_BPM)).toEqual(beats);
});

test("too few beats to judge are kept", () => {
  const { beats, onset } = grid(10, 5, 0); // 600 BPM but only 5 beats
  expect(thinToMaxBpm(beats, FRAME_RATE, onset, MAX_BPM)).toEqual(beats);
});
