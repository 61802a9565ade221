/**
 * Verification metrics on cosine scores: true-match rate at a false-match-rate budget, and
 * ROC points. Pure functions, shared by bench/face.bench.ts and the tests.
 */

export interface OperatingPoint {
  /** Scores >= threshold are matches. */
  threshold: number;
  /** Share of genuine (same-person) pairs matched. */
  tmr: number;
  /** Share of impostor (different-person) pairs matched. */
  fmr: number;
  /** False matches allowed by the budget (floor(budget x impostor pairs)). */
  allowedFalse: number;
}

const rate = (xs: readonly number[], t: number) => (xs.length === 0 ? NaN : xs.filter((x) => x >= t).length / xs.length);

/**
 * The lowest threshold whose false-match rate stays within `maxFmr`, and the TMR there.
 * With N impostor pairs at most floor(maxFmr x N) may score at or above the threshold, so
 * the threshold sits just above the (k+1)-th highest impostor score. With fewer than
 * 1 / maxFmr impostor pairs, "FMR 0.1 %" is the same point as "FMR 0": the report says so.
 */
export function tmrAtFmr(genuine: readonly number[], impostor: readonly number[], maxFmr: number): OperatingPoint {
  const imp = [...impostor].sort((a, b) => b - a);
  const k = Math.floor(maxFmr * imp.length + 1e-9);
  const cut = imp[k];
  // Just above the (k+1)-th highest impostor; any threshold matches all when there are too few impostors.
  const threshold = cut === undefined ? -1 : cut + 1e-6;
  return { threshold, tmr: rate(genuine, threshold), fmr: rate(impostor, threshold), allowedFalse: k };
}

/** TMR and FMR at each threshold. */
export function rocPoints(
  genuine: readonly number[],
  impostor: readonly number[],
  thresholds: readonly number[],
): { threshold: number; tmr: number; fmr: number }[] {
  return thresholds.map((threshold) => ({ threshold, tmr: rate(genuine, threshold), fmr: rate(impostor, threshold) }));
}

/** Thresholds spread over the range where genuine and impostor scores meet (ROC table rows). */
export function rocThresholds(genuine: readonly number[], impostor: readonly number[], steps = 8): number[] {
  const all = [...genuine, ...impostor];
  if (all.length === 0) return [];
  // Loops, not Math.max(...xs): a set with a few hundred photos has 100k+ impostor pairs, past the spread's stack limit.
  let hiImp = -1,
    loGen = 1;
  for (const x of impostor) if (x > hiImp) hiImp = x;
  for (const x of genuine) if (x < loGen) loGen = x;
  const lo = Math.min(hiImp, loGen) - 0.02;
  const hi = Math.max(hiImp, loGen) + 0.02;
  return Array.from({ length: steps }, (_, i) => Math.round((lo + ((hi - lo) * i) / (steps - 1)) * 1000) / 1000);
}
