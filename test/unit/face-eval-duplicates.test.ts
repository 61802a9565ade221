import { test } from "vitest";
import assert from "node:assert/strict";
import { rankIdentityPairs } from "../../scripts/face-eval/duplicates.ts";
import type { EvalImage } from "../../scripts/face-eval/manifest.ts";

const img = (identity: string, n: number): EvalImage => ({
  file: `${identity}-${n}.png`,
  identity,
  photo_id: `${identity}-${n}`,
  kind: "photo",
  source: "test",
  licence: "test",
});
const unit = (v: number[]) => {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};

test("rankIdentityPairs puts first the identity pair both models see as one person; a pair only one model likes ranks below it", () => {
  // a and b are one person (same direction in both models); c and d are close in model 1 only.
  const images = ["a", "b", "c", "d", "e"].flatMap((id) => [img(id, 1), img(id, 2)]);
  const dirs: Record<string, number[][]> = {
    a: [unit([1, 0.1, 0, 0, 0]), unit([1, 0, 0.1, 0, 0])],
    b: [unit([1, 0.05, 0.05, 0, 0]), unit([1, 0, 0, 0.1, 0])],
    c: [unit([0, 1, 0, 0, 0]), unit([0, 0, 1, 0, 0])],
    d: [unit([0, 0.9, 0.1, 0, 0]), unit([0, 0, 0, 1, 0])],
    e: [unit([0, 0, 0, 0, 1]), unit([0, 0, 0, 1, 1])],
  };
  const model1 = images.map((im, i) => dirs[im.identity]![i % 2]!);
  // Model 2 keeps a ~ b but spreads c and d apart.
  const model2 = images.map((im, i) => (im.identity === "d" ? unit([0, 0, 0, 0.2, -1]) : dirs[im.identity]![i % 2]!));
  const ranked = rankIdentityPairs(images, [model1, model2]);
  assert.equal(ranked.length, 10);
  assert.deepEqual([ranked[0]!.a, ranked[0]!.b], ["a", "b"]);
  assert.ok(ranked[0]!.medians.every((m) => m > 0.95));
  const cd = ranked.find((p) => p.a === "c" && p.b === "d")!;
  assert.ok(cd.z < ranked[0]!.z);
  // A missing embedding leaves the pair out of that model's median, not the ranking.
  const holes = model1.map((e, i) => (i === 0 ? null : e));
  assert.deepEqual(
    rankIdentityPairs(images, [holes, model2])
      .slice(0, 1)
      .map((p) => [p.a, p.b]),
    [["a", "b"]],
  );
});
