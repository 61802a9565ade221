/**
 * The one-drop rule of dsp/downbeats.ts on generated per-beat cues (issue 12): the drop
 * (kick and rim together on beat 3, beat 1 empty) is recognised and moves the bar start two
 * beats before it; backbeat grooves (snare on 2 and 4, kick on 1 and 3) and a half-time feel
 * (snare on 3, kick on 1) are left alone. The rendered one-drop is in audio-metrical.test.ts.
 */
import { test } from "vitest";
import assert from "node:assert/strict";
import { estimateMeter, oneDropPosition } from "../../plugins/audio/dsp/downbeats.ts";
import { zscore } from "../../plugins/audio/dsp/bar-cues.ts";

const BARS = 16;

/** A cue repeating `pattern` (one value per beat of a 4-beat bar), with a little deterministic jitter, z-scored. */
function cue(pattern: number[], start = 0): Float64Array {
  const v = new Float64Array(BARS * 4);
  for (let i = 0; i < v.length; i++) v[i] = (pattern[(i + start) % 4] as number) + 0.1 * Math.sin(i * 1.7);
  return zscore(v);
}

test("one-drop: kick and rim on beat 3 only is a drop, found at its position in the bar", () => {
  // Beats counted from the song's first tracked beat, which here is beat 2 of a bar.
  const kick = cue([0, 0.3, 1, 0.3], 1);
  const snare = cue([0, 0, 1, 0], 1);
  // Beat 3 of the bar is the tracked beat 1 (mod 4).
  assert.equal(oneDropPosition(kick, snare), 1);
});

test("backbeat rock (kick 1 and 3, snare 2 and 4) and half time (kick 1, snare 3) are not drops", () => {
  assert.equal(oneDropPosition(cue([1, 0, 0.8, 0]), cue([0, 1, 0, 1])), -1);
  assert.equal(oneDropPosition(cue([1, 0, 0.2, 0]), cue([0, 0, 1, 0])), -1);
});

test("the bar of a one-drop starts two beats before the drop, not on it", () => {
  // Chords change on 1 (weakly), kick and rim on 3: the kick alone would put the bar on 3.
  const harm = cue([0.4, 0, 0.1, 0]);
  const kick = cue([0, 0.3, 1, 0.3]);
  const snare = cue([0, 0, 1, 0]);
  const withSnare = estimateMeter([harm, kick, snare]);
  assert.ok(withSnare);
  assert.equal(withSnare.beatsPerBar, 4);
  assert.ok(
    withSnare.downbeatIdx.every((i) => i % 4 === 0),
    `downbeats ${withSnare.downbeatIdx.slice(0, 4)}`,
  );
  // Without the snare cue the rule cannot see the drop and the kick wins: the old failure.
  const kickOnly = estimateMeter([harm, kick]);
  assert.ok(kickOnly?.downbeatIdx.every((i) => i % 4 === 2));
});
