/**
 * Statistics for an A/B bench whose two paths are run interleaved in rounds (bench/comfyui.bench.ts:
 * per round, direct and farm jobs in ABBA order), so that one run can say whether a target on
 * "p50 of B minus p50 of A" is met.
 *
 * The difference of two pooled medians is what the target names, but its run-to-run spread is
 * set by each path's own spread (tens of ms on a shared machine, for a difference of a few ms).
 * A block bootstrap over rounds gives that spread from one run: rounds are drawn with
 * replacement (keeping each round's A and B together, so drift that hits both alike within a
 * round stays paired) and the statistic is recomputed on every draw. The seeded generator makes
 * a rerun on the same numbers give the same interval.
 */
import { pct } from "./load.ts";
import { mulberry32 } from "../scripts/audio-eval/rng.ts";

/** One round's samples per path (ms), in the order they ran. */
export type Round = Record<string, number[]>;

export const p50 = (xs: readonly number[]): number =>
  pct(
    [...xs].sort((a, b) => a - b),
    50,
  );

/** p50 of path `b` minus p50 of path `a`, both pooled over the given rounds. */
export function addedP50(rounds: readonly Round[], a: string, b: string): number {
  return p50(rounds.flatMap((r) => r[b] ?? [])) - p50(rounds.flatMap((r) => r[a] ?? []));
}

/** Seeded PRNG (mulberry32, the one the eval sets and the other benches use): uniform in [0, 1). */
export const rng: (seed: number) => () => number = mulberry32;

/** Percentile interval [lo, hi] (default 95 %) of `stat` over `draws` block-bootstrap resamples of the rounds. */
export function bootstrapInterval(
  rounds: readonly Round[],
  stat: (rs: readonly Round[]) => number,
  opts: { draws?: number; level?: number; seed?: number } = {},
): [number, number] {
  const draws = opts.draws ?? 2000;
  const level = opts.level ?? 0.95;
  const rand = rng(opts.seed ?? 1);
  const values: number[] = [];
  for (let i = 0; i < draws; i++) {
    const sample = Array.from({ length: rounds.length }, () => rounds[Math.floor(rand() * rounds.length)]!);
    const v = stat(sample);
    if (Number.isFinite(v)) values.push(v);
  }
  values.sort((x, y) => x - y);
  const tail = (1 - level) / 2;
  return [pct(values, tail * 100), pct(values, (1 - tail) * 100)];
}

/** The statistic on consecutive groups of `per` rounds (the last partial group dropped): how much it moves within one run. */
export function perBlock(rounds: readonly Round[], per: number, stat: (rs: readonly Round[]) => number): number[] {
  const out: number[] = [];
  for (let i = 0; i + per <= rounds.length; i += per) out.push(stat(rounds.slice(i, i + per)));
  return out;
}

/** "met" when the whole interval is at or under the target, "NOT met" when it is all above, else "not decided by this run". */
export function verdict([lo, hi]: [number, number], target: number): string {
  if (hi <= target) return "met";
  if (lo > target) return "NOT met";
  return "not decided by this run";
}
