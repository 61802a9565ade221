/**
 * A fast triple meter heard one bar per beat (issue 12: a waltz at 180 BPM tracked at
 * 60, its three beats read as the triplet division of a 12/8 beat).
 *
 * Both readings divide the tracked beat in three, so the division alone cannot tell them
 * apart. What does is the level above: in compound time (6/8, 12/8) the dotted beats of
 * a bar take turns in the drums — the kick on 1 (and 3), the backbeat on 2 and 4, or in
 * 6/8 kick and snare alternating — so the drum cues folded over two consecutive beats
 * show a clear contrast. When the tracked beat is itself a bar of a waltz, every tracked
 * beat holds the same bar of drums ("oom-pah-pah"), and consecutive beats sound alike.
 * So: a compound beat whose kick and snare do not alternate from one beat to the next
 * is a bar of three beats; the beats are its thirds and the bar lines are the tracked
 * beats.
 *
 * Dev set (phase contrast of the drum cue folded over 2 beats, in SDs, the larger of
 * kick and snare): 12/8 and 6/8 songs 1.42-1.88, the 60-BPM reading of the fast waltz
 * 0.44. The bound sits between them.
 */
import { phaseSplit } from "./phase-split.ts";

/** Below this two-beat drum contrast (SDs) a compound beat is taken as a bar of three. */
export const MIN_COMPOUND_ALTERNATION = 0.9;

/** Largest contrast of the best of two phases (mean on it minus the other), in SDs of `v`. */
function twoBeatContrast(v: Float64Array): number {
  let best = -Infinity;
  for (let p = 0; p < 2; p++) {
    const { on, off } = phaseSplit(v, 2, p);
    best = Math.max(best, (on ?? 0) - (off ?? 0));
  }
  return best;
}

/**
 * How much the drums alternate between consecutive beats: the larger two-beat contrast
 * of the kick and snare cues (barCues()[1] and [2], z-scored per song).
 */
export function drumAlternation(cues: Float64Array[]): number {
  const kick = cues[1];
  const snare = cues[2];
  if (!kick || kick.length < 8) return Infinity;
  return Math.max(twoBeatContrast(kick), snare ? twoBeatContrast(snare) : -Infinity);
}

/** True when a compound beat is a bar of three beats (header). */
export function isBarOfThree(cues: Float64Array[]): boolean {
  return drumAlternation(cues) < MIN_COMPOUND_ALTERNATION;
}

/** Each beat interval divided in three (the last beat kept): the beats of the bar. */
export function splitInThree(times: number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < times.length; i++) {
    const t = times[i] as number;
    out.push(t);
    const next = times[i + 1];
    if (next === undefined) break;
    out.push(t + (next - t) / 3, t + (2 * (next - t)) / 3);
  }
  return out;
}
