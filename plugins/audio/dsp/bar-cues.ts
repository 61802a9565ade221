/**
 * Per-beat cues for bar position (downbeats.ts): what sounds at each tracked beat, each
 * z-scored over the song so the cues weigh the same in every recording.
 *  - harmonic change: chroma distance of the beat to the one before — chords tend to
 *    change on the bar line. The full chroma, not the bass register alone: a walking or
 *    syncopated bass line (the one-drop's, which rests on 1) moves on every beat while the
 *    chord above it holds for the bar (real dev set: meter 86 → 92 %, downbeat F 0.91 →
 *    0.92 on the first 51 songs, with the low-register chroma as before);
 *  - kick: percussive onset below 200 Hz (percussive.ts) — beats 1 and 3 in rock;
 *  - snare: percussive onset 200 Hz - 2.5 kHz (snare body, rim) — the backbeat, or the
 *    one-drop's rim shot on 3 with the kick (downbeats.ts reads the drop from it).
 */
import { sampleAt, syncFeatures } from "./beat-sync.ts";
import type { Chromagram } from "./chroma.ts";
import type { FrameFeatures } from "./features.ts";
import type { PercussiveOnsets } from "./percussive.ts";

/** z-score in place (all zeros on constant input). */
export function zscore(v: Float64Array): Float64Array {
  const n = v.length;
  if (n === 0) return v;
  let m = 0;
  for (const x of v) m += x;
  m /= n;
  let s = 0;
  for (const x of v) s += (x - m) * (x - m);
  s = Math.sqrt(s / n);
  for (let i = 0; i < n; i++) v[i] = s > 1e-9 ? ((v[i] as number) - m) / s : 0;
  return v;
}

function cosine(c: Float32Array, a: number, b: number): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let k = 0; k < 12; k++) {
    const x = c[a + k] as number;
    const y = c[b + k] as number;
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 1;
}

/** Harmonic change per beat: 1 - cosine of beat i's low chroma to beat i-1's. */
export function harmonicChange(beatChroma: Float32Array, n: number): Float64Array {
  const harm = new Float64Array(n);
  for (let i = 1; i < n; i++) harm[i] = 1 - cosine(beatChroma, i * 12, (i - 1) * 12);
  harm[0] = n > 1 ? (harm[1] as number) : 0;
  return harm;
}

/** The cues at each beat, z-scored: cues[0] harmonic change, cues[1] kick, cues[2] snare; cues[k][i]. */
export function barCues(f: Pick<FrameFeatures, "frameRate">, perc: PercussiveOnsets, chroma: Chromagram, times: number[]): Float64Array[] {
  const n = times.length;
  const last = times[n - 1] as number;
  const units = [...times, last + (n > 1 ? last - (times[n - 2] as number) : 0.5)];
  const beatChroma = syncFeatures(chroma.chroma, 12, chroma.frameRate, units);
  const at = (s: Float32Array) => Float64Array.from(sampleAt(s, f.frameRate, times));
  return [harmonicChange(beatChroma, n), at(perc.low), at(perc.mid)].map(zscore);
}
