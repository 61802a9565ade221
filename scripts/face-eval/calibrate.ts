/**
 * A model's match threshold from the dev split: the lowest threshold on a 0.01 grid with no
 * false match among the dev impostor pairs (FMR 0), over cross-photo and variant genuine
 * pairs together. The grid keeps the stored value readable and a hair above the highest
 * impostor, so the held-out split (never tuned on) shows how much of that margin was luck.
 * The value goes into core/characters/thresholds.ts by hand, with the figures it came with.
 */
import { tmrAtFmr } from "./metrics.ts";

export interface Calibration {
  threshold: number;
  /** Highest dev impostor score the threshold sits above. */
  impostorMax: number;
  /** Dev TMR at the threshold, per pair kind (a pair without a face counts as a miss). */
  tmrCrossPhoto: number;
  tmrVariant: number;
}

const rate = (xs: readonly number[], t: number) => (xs.length === 0 ? NaN : xs.filter((x) => x >= t).length / xs.length);

export function calibrate(scores: { cross_photo: readonly number[]; variant: readonly number[]; impostor: readonly number[] }): Calibration {
  let impostorMax = -1;
  for (const x of scores.impostor) if (x > impostorMax) impostorMax = x;
  // tmrAtFmr(…, 0) is "just above the highest impostor"; round that up to the grid.
  const exact = tmrAtFmr([...scores.cross_photo, ...scores.variant], scores.impostor, 0).threshold;
  const threshold = Math.min(1, Math.ceil(exact * 100 - 1e-9) / 100);
  return { threshold, impostorMax, tmrCrossPhoto: rate(scores.cross_photo, threshold), tmrVariant: rate(scores.variant, threshold) };
}
