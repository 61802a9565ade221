/**
 * Choosing the metrical level of the beat (resolving tempo octave errors) with the
 * harmonic rhythm, after Goto (2001): chords change at bar lines (3 or 4 beats apart),
 * rarely more often than every beat and seldom only every 2 bars. Beats are first tracked
 * at a fast pulse level; beat-synchronous chroma then shows how many of those pulses
 * separate chord changes (P). P of 3-4 means the fast pulse is the beat; 6-8 means
 * the beat is 2 pulses; 12-16 means 4. Without clear chord changes (drums only, noise)
 * the prior-weighted onset autocorrelation decides alone.
 */
import { phaseSplit } from "./phase-split.ts";

export interface HarmonicPeriod {
  /** Pulses per beat (1 or the pulse divisor k); 0 when undecided. */
  period: number;
  /** Best-phase contrast of chord change at that period, in standard deviations. */
  contrast: number;
}

/** Below this excess (SD units) the chord-change pattern is too weak to decide. */
const MIN_CONTRAST = 0.8;

/** Chord change at each pulse: cosine distance of pulse i's chroma to pulse i-1's, z-scored. */
export function pulseChordChange(pulseChroma: Float32Array, n: number): Float64Array {
  const d = new Float64Array(n);
  for (let i = 1; i < n; i++) {
    let ab = 0;
    let aa = 0;
    let bb = 0;
    for (let k = 0; k < 12; k++) {
      const a = pulseChroma[i * 12 + k] as number;
      const b = pulseChroma[(i - 1) * 12 + k] as number;
      ab += a * b;
      aa += a * a;
      bb += b * b;
    }
    d[i] = aa > 0 && bb > 0 ? 1 - ab / Math.sqrt(aa * bb) : 0;
  }
  let m = 0;
  for (let i = 1; i < n; i++) m += d[i] as number;
  m /= Math.max(1, n - 1);
  let s = 0;
  for (let i = 1; i < n; i++) s += ((d[i] as number) - m) ** 2;
  s = Math.sqrt(s / Math.max(1, n - 1));
  for (let i = 0; i < n; i++) d[i] = i === 0 || s < 1e-9 ? 0 : ((d[i] as number) - m) / s;
  return d;
}

export function contrastAt(d: Float64Array, p: number): number {
  let best = -Infinity;
  for (let ph = 0; ph < p; ph++) {
    // d[0] is not a change between two pulses: start at 1.
    const { on, off } = phaseSplit(d, p, ph, 1);
    if (on !== null && off !== null) best = Math.max(best, on - off);
  }
  return best;
}

/**
 * Pulses per beat (1 or `k`, the divisor the fast pulse was taken at). Hypotheses: the
 * chords change every P pulses, P in {3, 4} (the pulse is the beat) or {3k, 4k} (the
 * pulse is a subdivision). Each is scored by a t-statistic of its best phase: the excess
 * of mean chord change on that phase times √(samples per phase). Unlike the raw excess,
 * this does not grow with P by chance, and a true period beats its multiples by ≈√2
 * and its divisors by ≈1/√2.
 */
export function harmonicPeriod(pulseChroma: Float32Array, n: number, k: number): HarmonicPeriod {
  if (n < 12 * k) return { period: 0, contrast: 0 };
  const d = pulseChordChange(pulseChroma, n);
  let best = { p: 0, t: -Infinity, c: 0 };
  for (const p of [3, 4, 3 * k, 4 * k]) {
    const c = contrastAt(d, p);
    const t = c * Math.sqrt((n - 1) / p);
    if (t > best.t) best = { p, t, c };
  }
  if (!(best.c >= MIN_CONTRAST)) return { period: 0, contrast: Math.max(0, best.c) };
  return { period: best.p > 4 ? k : 1, contrast: best.c };
}
