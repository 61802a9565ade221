/**
 * Bar-template phase test (issue 12): the second look at the beat phase, for grooves the
 * accent check (beat-phase.ts) cannot see because their loudest hit is not the beat. In
 * an oom-pah or a rock bar tracked half a beat off, the snare on every "and" is the
 * strongest periodic onset, so the tracker puts its beats there and the accent profile
 * looks right. Two pieces of evidence of a bar of four still point at the other phase:
 *  - the kick's fundamental (the percussive part below 80 Hz, without the toms) sits on
 *    the beats: its mean on the beats minus its mean on the "and"s;
 *  - the backbeat alternates from beat to beat (snare on 2 and 4, not on 1 and 3): the
 *    mid-register drums folded over a bar of 4 beats (8 half-beat bins), the alternation
 *    of the on-beat bins against that of the off-beat bins.
 * The grid is moved only when both say "the other phase", each by a margin: either alone
 * is not enough (session 10: a correct groove with its kick on the "and"s, Freedoom's
 * D_DDTBLU, has the kick contrast of the wrong ones, but its snare alternates on the
 * beats; D_DOOM2 alternates on the tracked beats although its file notates the "and"s).
 * Margins chosen on dev-games, dev extended and synthetic (BENCHMARKS.md "audio").
 */
import { sampleAt } from "./beat-sync.ts";
import { registerRms, type PercussiveOnsets } from "./percussive.ts";

/** Sub-80 Hz kick: on-beat minus off-beat mean, in the band's RMS units, needed below -this. */
export const KICK_MARGIN = 0.15;
/** Backbeat alternation, tracked minus shifted phase, in the band's RMS units, needed below -this. */
export const BACKBEAT_MARGIN = 0.4;
/** Half-beat points needed (8 bars of 4) before the fold is trusted. */
const MIN_POINTS = 64;

export interface BarTemplateEvidence {
  /** Sub-80 Hz kick on the beats minus on the "and"s (negative: the kick sits on the "and"s). */
  kick: number;
  /** Backbeat alternation on the beats minus on the "and"s (negative: the backbeat is on the "and"s). */
  backbeat: number;
  /** Both clearly on the other side: the grid should move half a beat. */
  otherPhase: boolean;
}

/** `band` at the half-beat points (beat i at 2i, its "and" at 2i+1), in the band's RMS units. */
function atPoints(band: Float32Array, frameRate: number, pts: number[]): Float32Array {
  const z = registerRms(band);
  const v = sampleAt(band, frameRate, pts);
  for (let j = 0; j < v.length; j++) v[j] = (v[j] as number) / z;
  return v;
}

/**
 * Evidence of the two phases at half-beat points `pts` of the tracked grid (even indices
 * on the beats, odd ones on the "and"s).
 */
export function barTemplateEvidence(perc: PercussiveOnsets, frameRate: number, pts: number[]): BarTemplateEvidence {
  if (pts.length < MIN_POINTS) return { kick: 0, backbeat: 0, otherPhase: false };
  const k = atPoints(perc.sub, frameRate, pts);
  const s = atPoints(perc.mid, frameRate, pts);
  const mean = [0, 0];
  const n = [0, 0];
  const fold = new Float64Array(8);
  const cnt = new Float64Array(8);
  for (let j = 0; j < pts.length; j++) {
    mean[j % 2]! += k[j] as number;
    n[j % 2]!++;
    fold[j % 8] = (fold[j % 8] as number) + (s[j] as number);
    cnt[j % 8] = (cnt[j % 8] as number) + 1;
  }
  const kick = (mean[0] as number) / (n[0] as number) - (mean[1] as number) / (n[1] as number);
  const f = (b: number) => (fold[b] as number) / Math.max(1, cnt[b] as number);
  // Which beats of the bar carry the backbeat is unknown (the downbeat comes later), so the
  // size of the alternation counts, not its sign.
  const onBeats = Math.abs(f(2) + f(6) - f(0) - f(4)) / 2;
  const onAnds = Math.abs(f(3) + f(7) - f(1) - f(5)) / 2;
  const backbeat = onBeats - onAnds;
  return { kick, backbeat, otherPhase: kick < -KICK_MARGIN && backbeat < -BACKBEAT_MARGIN };
}
