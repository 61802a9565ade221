/**
 * The onset autocorrelation is taken directly up to 200 lags and through an FFT above
 * (dsp/tempo.ts, for speed): the two paths must give the same values, so a song's tempo
 * does not depend on which one ran.
 */
import { test } from "vitest";
import assert from "node:assert/strict";
import { autocorrelation } from "../../plugins/audio/dsp/tempo.ts";
import { mulberry32 } from "../../scripts/audio-eval/rng.ts";

test("direct (<= 200 lags) and FFT (> 200 lags) autocorrelations agree lag by lag", () => {
  const rnd = mulberry32(7);
  // A pulse every 43 frames over noise, 5000 frames (~58 s at 86 frames/s).
  const v = Float32Array.from({ length: 5000 }, (_, i) => (i % 43 === 0 ? 1 : 0) + 0.3 * rnd());
  const direct = autocorrelation(v, 200);
  const fft = autocorrelation(v, 201);
  assert.equal(direct.length, 201);
  assert.equal(fft.length, 202);
  for (let l = 0; l <= 200; l++) assert.ok(Math.abs((direct[l] as number) - (fft[l] as number)) < 1e-5, `lag ${l}: ${direct[l]} vs ${fft[l]}`);
  assert.ok(Math.abs((direct[0] as number) - 1) < 1e-6);
  assert.ok((direct[43] as number) > 0.5 && (direct[20] as number) < 0.1, `peak at the pulse period: ${direct[43]}, off it ${direct[20]}`);
});

test("flat, empty and one-sample inputs give zeros, not NaN", () => {
  for (const maxLag of [10, 1000]) {
    assert.deepEqual(
      Array.from(autocorrelation(new Float32Array(100).fill(0.5), maxLag)).every((x) => x === 0),
      true,
    );
    assert.equal(autocorrelation(new Float32Array(0), maxLag).length, 0);
    assert.deepEqual(Array.from(autocorrelation(Float32Array.of(3), maxLag)), [0]);
  }
});
