/**
 * AS-norm (scripts/face-eval/asnorm.ts): the top-K cohort statistics skip the pair's own
 * identities, and a pair whose faces are both close to many strangers (a look-alike-prone
 * pair) scores lower after normalisation than a pair with the same cosine whose faces are
 * far from the cohort.
 */
import { test } from "vitest";
import assert from "node:assert/strict";
import { asNormScores, cohortOf, fuseVectors, topKStats } from "../../scripts/face-eval/asnorm.ts";
import type { EvalImage } from "../../scripts/face-eval/manifest.ts";

test("topKStats: mean and spread of the k highest cohort scores, excluded identities skipped", () => {
  const ranked = [
    { s: 0.9, id: "self" },
    { s: 0.5, id: "x" },
    { s: 0.3, id: "y" },
    { s: 0.1, id: "z" },
  ];
  const st = topKStats(ranked, 2, new Set(["self"]));
  assert.ok(Math.abs(st.mu - 0.4) < 1e-12);
  assert.ok(Math.abs(st.sd - 0.1) < 1e-12);
});

test("fuseVectors: the fused cosine is the weighted sum of the models' cosines; a missing face stays missing", () => {
  const a = [[1, 0], [0.6, 0.8], null];
  const b = [
    [0, 1],
    [0, 1],
    [1, 0],
  ];
  const v = fuseVectors([a, b], [0.25, 0.75]);
  const dot = (x: readonly number[], y: readonly number[]) => x.reduce((s, xi, i) => s + xi * y[i]!, 0);
  assert.ok(Math.abs(dot(v[0]!, v[1]!) - (0.25 * 0.6 + 0.75 * 1)) < 1e-12);
  assert.equal(v[2], null);
});

test("asNormScores: equal cosines, the pair in a crowded part of the cohort scores lower", () => {
  const img = (identity: string, kind: "photo" | "variant" = "photo"): EvalImage => ({
    file: identity,
    identity,
    photo_id: identity,
    kind,
    source: "",
    licence: "",
  });
  const u = (deg: number) => [Math.cos((deg * Math.PI) / 180), Math.sin((deg * Math.PI) / 180)];
  // Cohort strangers crowd around 0 degrees; none near 90.
  const images = [img("c1"), img("c2"), img("c3"), img("c4"), img("a"), img("b"), img("p"), img("q")];
  const vecs = [u(-10), u(5), u(10), u(-5), u(-20), u(20), u(70), u(110)];
  const cohort = cohortOf(images, vecs);
  assert.equal(cohort.vecs.length, 8);
  const s = asNormScores(images, vecs, cohort, 3);
  // (a, b) and (p, q) both have cosine cos(40 deg); pairIndex finds them in pairsOf order.
  const pairIndex = (i: number, j: number) => {
    let n = 0;
    for (let x = 0; x < images.length; x++) for (let y = x + 1; y < images.length; y++, n++) if (x === i && y === j) return n;
    return -1;
  };
  const ab = s.impostor[pairIndex(4, 5)]!;
  const pq = s.impostor[pairIndex(6, 7)]!;
  assert.ok(pq > ab, `${pq} > ${ab}`);
});
