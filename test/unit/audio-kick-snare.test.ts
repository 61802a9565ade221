/**
 * The kick/snare alternation cue of the metrical-level model (tempo-level.ts crossAt):
 * on generated drum envelopes, the cross-correlation of kick and snare peaks at the beat
 * (snare one beat after the kick) and not at the half or double level, which the two
 * autocorrelations alone cannot tell apart for a backbeat.
 */
import { test } from "vitest";
import assert from "node:assert/strict";
import { crossAt } from "../../plugins/audio/dsp/tempo-level.ts";
import { autocorrelation } from "../../plugins/audio/dsp/tempo.ts";

/** Envelopes of a backbeat at `beat` frames a beat: kick on 1 and 3, snare on 2 and 4. */
function backbeat(beat: number, bars: number): { kick: Float32Array; snare: Float32Array } {
  const n = beat * 4 * bars;
  const kick = new Float32Array(n);
  const snare = new Float32Array(n);
  for (let b = 0; b < 4 * bars; b++) {
    const at = b * beat;
    const target = b % 2 === 0 ? kick : snare;
    // A short decaying hit (3 frames), as an onset envelope shows a drum.
    target[at] = 1;
    if (at + 1 < n) target[at + 1] = 0.5;
    if (at + 2 < n) target[at + 2] = 0.25;
  }
  return { kick, snare };
}

test("kick/snare cross-correlation peaks at the beat, not at half or double", () => {
  const beat = 40;
  const { kick, snare } = backbeat(beat, 32);
  const atBeat = crossAt(kick, snare, beat);
  assert.ok(atBeat > 0.9, `at the beat ${atBeat}`);
  // The half level (a lag of two beats) puts kick on kick: no alternation.
  assert.ok(crossAt(kick, snare, 2 * beat) < 0.05, `two beats ${crossAt(kick, snare, 2 * beat)}`);
  // The double level (half a beat) falls between the hits.
  assert.ok(crossAt(kick, snare, beat / 2) < 0.05, `half a beat ${crossAt(kick, snare, beat / 2)}`);
  // Each drum alone repeats every two beats: its autocorrelation cannot mark the beat.
  const acf = autocorrelation(kick, 3 * beat);
  assert.ok((acf[2 * beat] as number) > (acf[beat] as number) + 0.5);
});

test("four on the floor (kick and snare together on every beat) gives no preference for alternation", () => {
  const beat = 36;
  const n = beat * 64;
  const kick = new Float32Array(n);
  for (let t = 0; t < n; t += beat) kick[t] = 1;
  const snare = Float32Array.from(kick);
  // Both lags line up hits: the cue is equal at the beat and two beats, leaving the choice to the other cues.
  assert.ok(Math.abs(crossAt(kick, snare, beat) - crossAt(kick, snare, 2 * beat)) < 0.05);
});

test("degenerate input: a silent envelope, a lag outside the signal", () => {
  const z = new Float32Array(100);
  const one = new Float32Array(100).fill(0);
  one[10] = 1;
  assert.equal(crossAt(z, one, 5), 0);
  assert.equal(crossAt(one, one, 0), 0);
  assert.equal(crossAt(one, one, 100), 0);
});
