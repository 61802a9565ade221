/**
 * Choosing the metrical level of the beat (resolving tempo octave errors) with the
 * harmonic rhythm, after Goto (2001): chords change at bar lines (3 or 4 beats apart),
 * rarely more often than every beat and seldom only every 2 bars. Beats are first tracked
 * at a fast pulse level; beat-synchronous chroma then shows how many of those pulses
 * separate chord changes (P). P of 3-4 means the fast pulse is the beat; 6-8 means
 * the beat is 2 pulses; 12-16 means 4. Without clear chord changes (drums only, noise)
 * the prior-weighted onset autocorrelation decides alone.
 */

export interface HarmonicPeriod {
  /** Pulses per beat (1 or the pulse divisor k); 0 when undecided. */
  period: number;
  /** Best-phase contrast of chord change at that period, in standard deviations. */
  contrast: number;
}

/** Below this contrast (SD units) the chord-change pattern is too weak to decide. */
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
    let on = 0;
    let nOn = 0;
    let off = 0;
    let nOff = 0;
    for (let i = 1; i < d.length; i++) {
      if (i % p === ph) {
        on += d[i] as number;
        nOn++;
      } else {
        off += d[i] as number;
        nOff++;
      }
    }
    if (nOn > 0 && nOff > 0) best = Math.max(best, on / nOn - off / nOff);
  }
  return best;
}

/**
 * Pulses per beat (1 or `k`, the divisor the fast pulse was taken at). Chord changes
 * are folded onto a bar-long cycle of `base·k` pulses (base 3 or 4 beats per bar,
 * whichever concentrates the changes better). If the pulse is a subdivision, changes
 * land on one phase of that cycle only; if the pulse is the beat, the cycle holds k bars
 * and changes recur every `base` pulses with about the same strength. The ratio of
 * the recurring phases' excess to the main phase's excess decides (≥ 0.5: pulse = beat).
 */
export function harmonicPeriod(pulseChroma: Float32Array, n: number, k: number): HarmonicPeriod {
  if (n < 12 * k) return { period: 0, contrast: 0 };
  const d = pulseChordChange(pulseChroma, n);
  const base = contrastAt(d, 4 * k) >= contrastAt(d, 3 * k) ? 4 : 3;
  const L = base * k;
  const sum = new Float64Array(L);
  const cnt = new Float64Array(L);
  for (let i = 1; i < n; i++) {
    sum[i % L] = (sum[i % L] as number) + (d[i] as number);
    cnt[i % L] = (cnt[i % L] as number) + 1;
  }
  const m = Array.from(sum, (v, i) => v / Math.max(1, cnt[i] as number));
  let top = 0;
  for (let i = 1; i < L; i++) if ((m[i] as number) > (m[top] as number)) top = i;
  const subs = new Set<number>();
  for (let j = 1; j < k; j++) subs.add((top + j * base) % L);
  const others = m.filter((_, i) => i !== top && !subs.has(i));
  const floor = others.reduce((a, b) => a + b, 0) / Math.max(1, others.length);
  const main = (m[top] as number) - floor;
  const rec = [...subs].reduce((a, i) => a + (m[i] as number), 0) / subs.size - floor;
  if (process.env.AUDIO_DEBUG) console.log("harm", k, base, m.map((v) => v.toFixed(2)).join(" "), "main", main.toFixed(2), "rec", rec.toFixed(2));
  if (!(main >= MIN_CONTRAST)) return { period: 0, contrast: Math.max(0, main) };
  return rec >= 0.5 * main ? { period: 1, contrast: main } : { period: k, contrast: main };
}
