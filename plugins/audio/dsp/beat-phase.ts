/**
 * Beat phase check: the beat tracker follows the strongest periodic onsets, and in
 * styles whose comping is syncopated (a reggae skank on every "and", off-beat guitar
 * chops) those sit half a beat away from the beat, so the whole grid can lock to the
 * off-beats at the right tempo. The drums say where the beat is: the loudest drum accent
 * of the bar (kick, snare, the one-drop's kick-and-rim on beat three) lands on a beat,
 * even when the hi-hats and the comping fill the off-beats more often.
 *
 * The percussive onsets (percussive.ts: kick, snare body, hi-hat/cymbal registers, each
 * scaled by its own RMS) are read at every tracked beat and every midpoint and averaged
 * per position of a bar of 3 and of 4 beats (both, since the meter is not known yet): 6
 * and 8 half-beat bins. When the strongest bin is a midpoint, and clearly so, the grid is
 * moved by half a beat. The margin keeps grooves whose accents are spread over both
 * (8-beat rock with kicks on "2 and") where the tracker put them. When no off-beat
 * accent stands out, the bar template (bar-template.ts: the kick's fundamental and the
 * backbeat's alternation) can still move the grid, for an oom-pah or a backbeat on the
 * "and"s that drew the tracker onto the snare.
 */
import { sampleAt } from "./beat-sync.ts";
import { registerRms, type PercussiveOnsets } from "./percussive.ts";
import { barTemplateEvidence } from "./bar-template.ts";

/** How much the strongest off-beat bin must beat the strongest on-beat bin, as a share of it. */
const SHIFT_MARGIN = 0.3;
/** Bars folded over needed before the check trusts the profile. */
const MIN_BARS = 6;

export interface PhaseCheck {
  /** on-beat minus off-beat peak accent, as a share of the larger (-1..1); negative: off-beat. */
  contrast: number;
  shifted: boolean;
  times: number[];
}

/** Half-beat points: beat i at 2i, the midpoint after it at 2i+1 (the last beat has none). */
function halfBeatPoints(times: number[]): number[] {
  const pts: number[] = [];
  for (let i = 0; i + 1 < times.length; i++) pts.push(times[i] as number, ((times[i] as number) + (times[i + 1] as number)) / 2);
  return pts;
}

/** Drum accent at each half-beat point: the three percussive registers, each in its own RMS units. */
export function drumAccent(perc: PercussiveOnsets, frameRate: number, pts: number[]): Float64Array {
  const out = new Float64Array(pts.length);
  for (const band of [perc.low, perc.mid, perc.high]) {
    const z = registerRms(band);
    const v = sampleAt(band, frameRate, pts);
    for (let j = 0; j < pts.length; j++) out[j] = (out[j] as number) + (v[j] as number) / z;
  }
  return out;
}

/** Strongest on-beat and off-beat bin of the accent folded at `beatsPerBar` beats. */
function foldPeaks(acc: Float64Array, beatsPerBar: number): { on: number; off: number } {
  const bins = 2 * beatsPerBar;
  const sum = new Float64Array(bins);
  const cnt = new Float64Array(bins);
  for (let j = 0; j < acc.length; j++) {
    sum[j % bins] = (sum[j % bins] as number) + (acc[j] as number);
    cnt[j % bins] = (cnt[j % bins] as number) + 1;
  }
  let on = -Infinity;
  let off = -Infinity;
  for (let b = 0; b < bins; b++) {
    const m = (sum[b] as number) / Math.max(1, cnt[b] as number);
    if (b % 2 === 0) on = Math.max(on, m);
    else off = Math.max(off, m);
  }
  return { on, off };
}

export function checkBeatPhase(times: number[], perc: PercussiveOnsets, frameRate: number): PhaseCheck {
  if (times.length < 4 * MIN_BARS + 1) return { contrast: 0, shifted: false, times };
  const pts = halfBeatPoints(times);
  const acc = drumAccent(perc, frameRate, pts);
  // The fold (3 or 4 beats) with the sharper peak is the one closer to the real bar.
  const f3 = foldPeaks(acc, 3);
  const f4 = foldPeaks(acc, 4);
  const f = Math.max(f3.on, f3.off) > Math.max(f4.on, f4.off) ? f3 : f4;
  const top = Math.max(Math.abs(f.on), Math.abs(f.off));
  const contrast = top > 1e-9 ? (f.on - f.off) / top : 0;
  // No off-beat accent: the bar template (kick fundamental and backbeat) may still place
  // the beat on the "and"s, when the snare on every "and" drew the tracker there.
  if (contrast >= -SHIFT_MARGIN && !barTemplateEvidence(perc, frameRate, pts).otherPhase) return { contrast, shifted: false, times };
  // Move every beat to the midpoint after it; the last beat has none and is dropped
  // (extrapolating it could put a beat past the end of the audio).
  const shifted = times.slice(0, -1).map((t, i) => (t + (times[i + 1] as number)) / 2);
  return { contrast, shifted: true, times: shifted };
}
