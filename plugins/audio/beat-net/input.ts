/**
 * The beat network's input, built from the analyser's own front end (features.ts): the 36
 * log-band energies of each frame and their half-wave-rectified rise from the frame
 * before (the spectral flux the onset envelope sums), 72 channels per frame at ~86
 * frames/s. Channel-major (channel c of frame t at c * T + t), as a Conv1d reads it.
 * scripts/audio-eval/beat-net/train.py builds the same array from the band energies
 * dump.ts writes.
 */
import type { FrameFeatures } from "../dsp/features.ts";

export const INPUT_CHANNELS = 72;

export function beatNetInput(f: Pick<FrameFeatures, "bands" | "nBands" | "nFrames">): Float32Array {
  const { bands, nBands: B, nFrames: T } = f;
  const x = new Float32Array(2 * B * T);
  if (T === 0) return x;
  // Band by band: writes run along time (the output's order); reads stride by B.
  for (let b = 0; b < B; b++) {
    const energy = b * T;
    const rise = (B + b) * T;
    let prev = bands[b] as number;
    x[energy] = prev;
    for (let t = 1, j = B + b; t < T; t++, j += B) {
      const e = bands[j] as number;
      x[energy + t] = e;
      x[rise + t] = e > prev ? e - prev : 0;
      prev = e;
    }
  }
  return x;
}
