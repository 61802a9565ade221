/**
 * The beat network's input, built from the analyser's own front end (features.ts): the 36
 * log-band energies of each frame and their half-wave-rectified rise from the frame
 * before (the spectral flux the onset envelope sums), 72 channels per frame at ~86
 * frames/s. Channel-major (channel c of frame t at c * T + t), as a Conv1d reads it.
 * train.py builds the same array from the band energies dump.ts writes.
 */
import type { FrameFeatures } from "../../../plugins/audio/dsp/features.ts";

export function beatNetInput(f: Pick<FrameFeatures, "bands" | "nBands" | "nFrames">): Float32Array {
  const { bands, nBands: B, nFrames: T } = f;
  const x = new Float32Array(2 * B * T);
  for (let t = 0; t < T; t++)
    for (let b = 0; b < B; b++) {
      const e = bands[t * B + b] as number;
      x[b * T + t] = e;
      x[(B + b) * T + t] = t > 0 ? Math.max(0, e - (bands[(t - 1) * B + b] as number)) : 0;
    }
  return x;
}
