/**
 * How the beat is divided: in compound time (6/8, 12/8) each beat holds three equal
 * parts, so the onset envelope repeats at a third of the beat and hardly at a half; in
 * simple time (even swung, where the off-beat lands near 2/3 but the 1/3 point stays
 * empty) it repeats at the half-beat or the quarter-beat. Read off the onset
 * autocorrelation at the tracked beat period.
 */
import { sampleAt } from "./beat-sync.ts";

export interface SubdivisionEvidence {
  third: number;
  half: number;
  quarter: number;
}

function near(acf: Float32Array, lag: number): number {
  let m = -1;
  for (let i = Math.max(1, Math.floor(lag * 0.97)); i <= Math.min(acf.length - 1, Math.ceil(lag * 1.03)); i++) m = Math.max(m, acf[i] as number);
  return m;
}

export function subdivisionEvidence(acf: Float32Array, beatPeriod: number): SubdivisionEvidence {
  return { third: near(acf, beatPeriod / 3), half: near(acf, beatPeriod / 2), quarter: near(acf, beatPeriod / 4) };
}

/**
 * Fastest dotted-quarter beat written as 12/8 (issue 12, 12/8 false positives). 12/8 is
 * how slow triplet grooves are notated (slow blues, doo-wop and soul ballads, dotted
 * quarter at about 40-90 per minute); the same triplet feel at a faster beat is written
 * as a 4/4 shuffle or swing, whose swung off-beat also fills the triplet grid. So four
 * compound beats per bar above this tempo are reported as 4/4. Two compound beats per
 * bar (6/8: jigs, 6/8 marches at 100-140) keep their label at any tempo. Dev set: 12/8
 * songs 60-85 BPM, 4/4 shuffles 106-134 BPM; the bound sits between them.
 */
export const MAX_TWELVE_EIGHT_BPM = 96;

/** How much more the third-beat must repeat than the binary subdivisions. */
const COMPOUND_MARGIN = 0.03;

/**
 * Compound when the envelope repeats at a third of the beat more than at a half or a
 * quarter, and the first third-point of the beats carries more onset than the half-point
 * (a swung off-beat fills 2/3 alone, which also makes the envelope repeat at a third).
 */
export function isCompound(onset: Float32Array, frameRate: number, acf: Float32Array, beats: number[]): boolean {
  if (beats.length < 8) return false;
  const ibis = beats
    .slice(1)
    .map((b, i) => b - (beats[i] as number))
    .sort((a, b) => a - b);
  const period = (ibis[ibis.length >> 1] as number) * frameRate;
  if (!(period > 6)) return false;
  const e = subdivisionEvidence(acf, period);
  if (e.third - Math.max(e.half, e.quarter) <= COMPOUND_MARGIN) return false;
  const at = (frac: number) => {
    const times: number[] = [];
    for (let i = 0; i + 1 < beats.length; i++) times.push((beats[i] as number) + frac * ((beats[i + 1] as number) - (beats[i] as number)));
    const v = sampleAt(onset, frameRate, times, 1);
    let sum = 0;
    for (const x of v) sum += x;
    return sum / Math.max(1, v.length);
  };
  // The first third-point must carry onsets (a swung off-beat fills 2/3 alone).
  const t1 = at(1 / 3);
  return t1 > 0 && t1 > at(1 / 2);
}
