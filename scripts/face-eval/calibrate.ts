/**
 * A model's match threshold from the dev split: the lowest threshold on a 0.001 grid whose
 * false-match rate among the dev impostor pairs stays within `maxFmr` (default 0.1 %), over
 * cross-photo and variant genuine pairs together. The grid keeps the stored value readable
 * and a hair above the impostor it must refuse; the held-out split (never tuned on) shows
 * what FMR it really gives.
 *
 * Why 0.1 % and not 0 (plugins/face/CALIBRATION.md has the figures): with ~160k dev impostor
 * pairs, FMR 0 is set by the single most similar stranger (for human-faceres a greyscale
 * variant of a demo face) and refuses two thirds of real same-person photo pairs, the very
 * failure the issue reported. Both points are reported by the bench.
 * The value goes into core/characters/thresholds.ts by hand, with the figures it came with.
 */
import { tmrAtFmr } from "./metrics.ts";

export interface Calibration {
  threshold: number;
  /** The false-match budget it was chosen for, and the dev FMR it gives. */
  maxFmr: number;
  fmr: number;
  /** Highest dev impostor score the threshold sits above. */
  impostorMax: number;
  /** Dev TMR at the threshold, per pair kind (a pair without a face counts as a miss). */
  tmrCrossPhoto: number;
  tmrVariant: number;
}

const rate = (xs: readonly number[], t: number) => (xs.length === 0 ? NaN : xs.filter((x) => x >= t).length / xs.length);

export function calibrate(scores: { cross_photo: readonly number[]; variant: readonly number[]; impostor: readonly number[] }, maxFmr = 0.001): Calibration {
  let impostorMax = -1;
  for (const x of scores.impostor) if (x > impostorMax) impostorMax = x;
  // tmrAtFmr is "just above the (k+1)-th highest impostor"; rounding up keeps FMR within budget.
  const exact = tmrAtFmr([...scores.cross_photo, ...scores.variant], scores.impostor, maxFmr).threshold;
  const threshold = Math.min(1, Math.ceil(exact * 1000 - 1e-9) / 1000);
  return {
    threshold,
    maxFmr,
    impostorMax,
    fmr: rate(scores.impostor, threshold),
    tmrCrossPhoto: rate(scores.cross_photo, threshold),
    tmrVariant: rate(scores.variant, threshold),
  };
}
