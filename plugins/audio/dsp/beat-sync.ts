/**
 * Beat-synchronous feature aggregation: frame features averaged over the units between
 * consecutive beat times. This bounds every later step (self-similarity, downbeats) by
 * the number of beats, not samples: memory is proportional to the audio's musical length.
 */

/** Average `dim`-wide frame vectors (frame-major) over [t_i, t_{i+1}) for each unit. */
export function syncFeatures(frames: Float32Array, dim: number, frameRate: number, unitTimes: number[]): Float32Array {
  const nUnits = Math.max(0, unitTimes.length - 1);
  const nFrames = Math.floor(frames.length / dim);
  const out = new Float32Array(nUnits * dim);
  for (let u = 0; u < nUnits; u++) {
    let a = Math.max(0, Math.round((unitTimes[u] as number) * frameRate));
    let b = Math.min(nFrames, Math.round((unitTimes[u + 1] as number) * frameRate));
    if (b <= a) {
      a = Math.min(a, nFrames - 1);
      b = a + 1;
    }
    if (a < 0 || a >= nFrames) continue;
    for (let f = a; f < b; f++) {
      for (let d = 0; d < dim; d++) out[u * dim + d] = (out[u * dim + d] as number) + (frames[f * dim + d] as number);
    }
    for (let d = 0; d < dim; d++) out[u * dim + d] = (out[u * dim + d] as number) / (b - a);
  }
  return out;
}

/** Value of a per-frame series at each time (max over ±radius frames: onsets can land a frame off). */
export function sampleAt(series: Float32Array, frameRate: number, times: number[], radius = 2): Float32Array {
  const out = new Float32Array(times.length);
  times.forEach((t, i) => {
    const c = Math.round(t * frameRate);
    let m = -Infinity;
    for (let f = Math.max(0, c - radius); f <= Math.min(series.length - 1, c + radius); f++) m = Math.max(m, series[f] as number);
    out[i] = Number.isFinite(m) ? m : 0;
  });
  return out;
}

/** Merge consecutive units so at most `maxUnits` remain (keeps every k-th boundary). */
export function capUnits(unitTimes: number[], maxUnits: number): number[] {
  const n = unitTimes.length - 1;
  if (n <= maxUnits) return unitTimes;
  const k = Math.ceil(n / maxUnits);
  const out: number[] = [];
  for (let i = 0; i < n; i += k) out.push(unitTimes[i] as number);
  out.push(unitTimes[n] as number);
  return out;
}
