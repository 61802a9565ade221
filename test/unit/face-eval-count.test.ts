/**
 * The detection-count rule and scoring (scripts/face-eval/count-rule.ts): which range a photo
 * expects, when a row counts as in range (turned copies must also report the turn back, photos as stored turn 0), the
 * per-part percentages, and the seeded sample of photos that get turned copies.
 */
import { describe, expect, it } from "vitest";
import { countTable, expectedFor, inRange, PORTRAIT, rowOk, scoreCounts, seededSample, turnBack, type CountRow } from "../../scripts/face-eval/count-rule.ts";

const row = (part: string, found: number, min = 1, max = 1, extra: Partial<CountRow> = {}): CountRow => ({
  part,
  image: `${part}-${found}`,
  expected: { min, max },
  found,
  ...extra,
});

describe("face detection count rule", () => {
  it("a portrait expects exactly one face unless a label says how many others show", () => {
    const labels = { "ext:a/1.jpg": { min: 1, max: 3, why: "two people behind" } };
    expect(expectedFor("ext:b/1.jpg", labels)).toEqual(PORTRAIT);
    expect(expectedFor("ext:a/1.jpg", labels)).toEqual({ min: 1, max: 3 });
    expect([0, 1, 2].map((c) => inRange(c, PORTRAIT))).toEqual([false, true, false]);
    expect([0, 1, 3, 4].map((c) => inRange(c, { min: 1, max: 3 }))).toEqual([false, true, true, false]);
  });

  it("a turned copy must report the turn that undoes it", () => {
    expect([0, 90, 180, 270, 360].map(turnBack)).toEqual([0, 270, 180, 90, 0]);
    expect(rowOk(row("turned", 1, 1, 1, { wantRotation: 270, rotation: 270 }))).toBe(true);
    expect(rowOk(row("turned", 1, 1, 1, { wantRotation: 270, rotation: 90 }))).toBe(false);
    expect(rowOk(row("turned", 2, 1, 1, { wantRotation: 270, rotation: 270 }))).toBe(false);
    expect(rowOk(row("dev", 1, 1, 1, { error: "no face" }))).toBe(false);
  });

  it("a photo as stored must be answered at turn 0: an upright face taken for upside down is a miss", () => {
    expect(rowOk(row("dev", 1, 1, 1, { wantRotation: 0, rotation: 0 }))).toBe(true);
    expect(rowOk(row("dev", 1, 1, 1, { wantRotation: 0, rotation: 180 }))).toBe(false);
    expect(scoreCounts([row("dev", 1, 1, 1, { wantRotation: 0, rotation: 180 })])[0]).toMatchObject({ inRange: 0, countInRange: 1 });
  });

  it("scores each part and all together, listing the misses", () => {
    const rows = [row("dev", 1), row("dev", 1), row("dev", 0), row("dev", 1), row("group", 5, 4, 7), row("group", 3, 4, 7)];
    const s = scoreCounts(rows);
    expect(s.map((p) => [p.part, p.total, p.inRange])).toEqual([
      ["dev", 4, 3],
      ["group", 2, 1],
      ["all", 6, 4],
    ]);
    expect(s[0]!.pct).toBe(75);
    const turned = scoreCounts([row("turned", 1, 1, 1, { wantRotation: 90, rotation: 270 }), row("turned", 1, 1, 1, { wantRotation: 90, rotation: 90 })]);
    expect([turned[0]!.inRange, turned[0]!.countInRange]).toEqual([1, 2]);
    expect(s[2]!.misses.map((m) => m.found)).toEqual([0, 3]);
    const md = countTable(s);
    expect(md).toContain("| dev | 4 | 3 | 75.0 | 3 | 75.0 |");
    expect(md).toContain("- group: group-3: expected 4..7, found 3");
    expect(md).toContain("- dev: dev-0: expected 1, found 0");
  });

  it("draws the same sample for a seed, of distinct items, capped at the list", () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const a = seededSample(items, 10, 13);
    expect(seededSample(items, 10, 13)).toEqual(a);
    expect(new Set(a).size).toBe(10);
    expect(a.every((x) => x >= 0 && x < 50)).toBe(true);
    expect(seededSample(items, 80, 13).sort((x, y) => x - y)).toEqual(items);
    expect(items).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});
