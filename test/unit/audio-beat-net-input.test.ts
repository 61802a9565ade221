/**
 * The beat network's input (plugins/audio/beat-net/input.ts) must be laid out as
 * train.py builds it from the dumped band energies: channel-major, the 36 band energies
 * then their half-wave-rectified rise from the frame before (0 at frame 0). A network
 * trained on one layout and run on another would give noise, not an error.
 */
import { test } from "vitest";
import assert from "node:assert/strict";
import { beatNetInput } from "../../plugins/audio/beat-net/input.ts";
import { frameFeatures } from "../../plugins/audio/dsp/features.ts";

test("channel-major bands then their rise, as train.py's net_input", () => {
  // 3 frames x 2 bands, frame-major as features.ts stores them.
  const bands = Float32Array.from([1, 5, 3, 4, 2, 6]);
  const x = beatNetInput({ bands, nBands: 2, nFrames: 3 });
  assert.deepEqual(
    Array.from(x),
    [
      // band 0 over time, band 1 over time
      1, 3, 2, 5, 4, 6,
      // rise of band 0 (0, 3-1, max(0, 2-3)), rise of band 1 (0, max(0, 4-5), 6-4)
      0, 2, 0, 0, 0, 2,
    ],
  );
});

test("built from the analyser's own features: 72 channels per frame, rises only where energy grows", () => {
  const sr = 22050;
  const x = new Float32Array(sr * 2);
  // A click every 0.5 s: the rise channels must peak at the clicks, not between them.
  for (let k = 0; k < 4; k++) for (let i = 0; i < 200; i++) x[Math.round(k * 0.5 * sr) + i] = Math.sin(i) * Math.exp(-i / 40);
  const f = frameFeatures(x, sr);
  const input = beatNetInput(f);
  assert.equal(input.length, 72 * f.nFrames);
  const rise = (t: number) => {
    let s = 0;
    for (let b = 36; b < 72; b++) s += input[b * f.nFrames + t] as number;
    return s;
  };
  const clickFrame = Math.round(0.5 * f.frameRate);
  const between = Math.round(0.75 * f.frameRate);
  const atClick = Math.max(rise(clickFrame - 1), rise(clickFrame), rise(clickFrame + 1));
  assert.ok(atClick > 10 * (rise(between) + 1e-6), `rise at a click ${atClick}, between clicks ${rise(between)}`);
  for (let i = 36 * f.nFrames; i < input.length; i++) assert.ok((input[i] as number) >= 0);
});
