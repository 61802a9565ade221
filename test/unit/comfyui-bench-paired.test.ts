import { describe, expect, it } from "vitest";
import { addedP50, bootstrapInterval, p50, perBlock, rng, verdict, type Round } from "../../bench/paired.ts";

// Rounds where farm = direct + `shift` exactly, on a base that drifts from round to round
// (the drift a machine's load gives): the paired statistic must see only the shift.
function rounds(n: number, shift: number, noise: () => number): Round[] {
  return Array.from({ length: n }, (_, r) => {
    const base = 230 + 20 * Math.sin(r);
    const d = Array.from({ length: 10 }, () => base + noise());
    return { d, f: d.map((x) => x + shift) };
  });
}

describe("bench/paired (the comfyui bench's A/B statistics)", () => {
  it("p50 added is the pooled medians' difference", () => {
    expect(p50([3, 1, 2])).toBe(2);
    expect(
      addedP50(
        [
          { d: [1, 2, 3], f: [10, 11, 12] },
          { d: [4], f: [13] },
        ],
        "d",
        "f",
      ),
    ).toBe(9);
  });

  it("a constant shift under drift and noise: estimate and interval hold it", () => {
    const rand = rng(7);
    const rs = rounds(24, 4, () => 15 * (rand() - 0.5));
    const stat = (x: readonly Round[]) => addedP50(x, "d", "f");
    expect(stat(rs)).toBeCloseTo(4, 6);
    const [lo, hi] = bootstrapInterval(rs, stat);
    expect(lo).toBeCloseTo(4, 6);
    expect(hi).toBeCloseTo(4, 6);
    expect(perBlock(rs, 4, stat)).toHaveLength(6);
  });

  it("independent noise on both paths gives an interval around the true shift, reproducible by seed", () => {
    const rand = rng(11);
    const rs: Round[] = Array.from({ length: 24 }, () => ({
      d: Array.from({ length: 10 }, () => 230 + 20 * rand()),
      f: Array.from({ length: 10 }, () => 233 + 20 * rand()),
    }));
    const stat = (x: readonly Round[]) => addedP50(x, "d", "f");
    const ci = bootstrapInterval(rs, stat, { seed: 3 });
    expect(ci[0]).toBeLessThan(3);
    expect(ci[1]).toBeGreaterThan(3);
    expect(ci[1] - ci[0]).toBeGreaterThan(0.5); // noise of ±10 ms over 240 jobs: not a point
    expect(bootstrapInterval(rs, stat, { seed: 3 })).toEqual(ci);
  });

  it("verdict needs the whole interval on one side of the target", () => {
    expect(verdict([2.1, 4.9], 5)).toBe("met");
    expect(verdict([5.1, 8], 5)).toBe("NOT met");
    expect(verdict([3, 6], 5)).toBe("not decided by this run");
  });

  it("the generator is uniform in [0, 1) and seeded", () => {
    const a = rng(5);
    const xs = Array.from({ length: 1000 }, a);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(xs.reduce((s, x) => s + x, 0) / xs.length).toBeGreaterThan(0.45);
    expect(rng(5)()).toBe(xs[0]);
  });
});
