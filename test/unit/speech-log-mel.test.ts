import { test } from "vitest";
import assert from "node:assert/strict";
import { WhisperFeatureExtractor } from "@huggingface/transformers";
import { MixedRadixFft, RealPowerSpectrum, WhisperLogMel } from "../../plugins/speech/log-mel.ts";

const extractorConfig = (feature_size: number) => ({
  feature_size,
  sampling_rate: 16000,
  hop_length: 160,
  chunk_length: 30,
  n_fft: 400,
  padding_value: 0,
  n_samples: 480000,
  nb_max_frames: 3000,
});

test("mixed-radix FFTs (400 = 4*4*5*5, 200 = 4*2*5*5, 63 = 3*3*7) and the real power spectrum equal the direct DFT", () => {
  for (const n of [200, 63]) {
    const re = new Float64Array(n).map((_, i) => Math.cos(i * 0.71) + (i % 5));
    const im = new Float64Array(n).map((_, i) => Math.sin(i * 0.13));
    const [xr, xi] = [Float64Array.from(re), Float64Array.from(im)];
    new MixedRadixFft(n).transform(re, im);
    for (let k = 0; k < n; k += 7) {
      let sr = 0,
        si = 0;
      for (let j = 0; j < n; j++) {
        const c = Math.cos((2 * Math.PI * j * k) / n),
          d = -Math.sin((2 * Math.PI * j * k) / n);
        sr += xr[j]! * c - xi[j]! * d;
        si += xr[j]! * d + xi[j]! * c;
      }
      assert.ok(Math.abs(re[k]! - sr) < 1e-9 && Math.abs(im[k]! - si) < 1e-9, `n ${n} bin ${k}`);
    }
  }
  const n = 400;
  const re = new Float64Array(n).map((_, i) => Math.sin(i * 0.37) + ((i * 7919) % 13) / 13);
  const im = new Float64Array(n);
  const xr = Float64Array.from(re);
  new MixedRadixFft(n).transform(re, im);
  for (const k of [0, 1, 7, 99, 200, 311]) {
    let sr = 0,
      si = 0;
    for (let j = 0; j < n; j++) {
      sr += xr[j]! * Math.cos((2 * Math.PI * j * k) / n);
      si -= xr[j]! * Math.sin((2 * Math.PI * j * k) / n);
    }
    assert.ok(Math.abs(re[k]! - sr) < 1e-9 && Math.abs(im[k]! - si) < 1e-9, `bin ${k}`);
  }
  const power = new Float64Array(201);
  new RealPowerSpectrum(n).compute(xr, power);
  for (let k = 0; k <= 200; k++) assert.ok(Math.abs(power[k]! - (re[k]! ** 2 + im[k]! ** 2)) < 1e-7 * Math.max(1, power[k]!), `power bin ${k}`);
});

for (const [bins, seconds] of [
  [80, 7.3],
  [128, 30],
  [80, 31],
] as const) {
  test(`log-mel matches transformers.js' WhisperFeatureExtractor (${bins} bins, ${seconds} s)`, async () => {
    const fe = new WhisperFeatureExtractor(extractorConfig(bins));
    const audio = new Float32Array(Math.round(seconds * 16000)).map((_, i) => 0.3 * Math.sin(i * 0.05) * Math.sin(i * 0.0003) + 0.05 * Math.sin(i * 1.3));
    const ref = (await fe(audio)).input_features;
    const mel = new WhisperLogMel({ nFft: 400, hop: 160, nSamples: 480000, nFrames: 3000, filters: (fe.config as { mel_filters: number[][] }).mel_filters });
    const ours = mel.compute(audio);
    assert.deepEqual(ref.dims, [1, bins, 3000]);
    const r = ref.data as Float32Array;
    let maxDiff = 0;
    for (let i = 0; i < r.length; i++) maxDiff = Math.max(maxDiff, Math.abs(r[i]! - ours[i]!));
    assert.ok(maxDiff < 1e-4, `max |diff| ${maxDiff}`);
  });
}
