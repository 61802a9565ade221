/**
 * Test-time augmentation and score-level weight fitting (scripts/face-eval/tta.ts,
 * tta-score.ts): the jittered template and the mirror are the transforms they claim, the mean
 * of variant embeddings is a unit vector, the gate refuses dark faces, and the cross-validated
 * weight fit scores every pair with weights fitted without either of its identities.
 */
import { test } from "vitest";
import assert from "node:assert/strict";
import { ARCFACE_TEMPLATE } from "../../plugins/face/insightface/align.ts";
import { jitterTemplate, mirror } from "../../scripts/face-eval/tta.ts";
import {
  bootstrapFmr0,
  compose,
  crossValidated,
  fitWeights,
  folds,
  fusedScore,
  meanUnit,
  pairTable,
  simplex,
  tmrOf,
} from "../../scripts/face-eval/tta-score.ts";
import type { EvalImage } from "../../scripts/face-eval/manifest.ts";
import { tmrAtFmr } from "../../scripts/face-eval/metrics.ts";
import { mulberry32 } from "../../scripts/audio-eval/rng.ts";

test("jitterTemplate: identity at scale 1 and no shift; scales about the crop centre and shifts by pixels", () => {
  assert.deepEqual(
    jitterTemplate(1, 0, 0),
    ARCFACE_TEMPLATE.map(([x, y]) => [x, y]),
  );
  const z = jitterTemplate(2, 0, 0);
  ARCFACE_TEMPLATE.forEach(([x, y], i) => {
    assert.ok(Math.abs(z[i]![0] - (56 + 2 * (x - 56))) < 1e-9);
    assert.ok(Math.abs(z[i]![1] - (56 + 2 * (y - 56))) < 1e-9);
  });
  const s = jitterTemplate(1, 3, -2);
  assert.deepEqual(s[0], [ARCFACE_TEMPLATE[0]![0] + 3, ARCFACE_TEMPLATE[0]![1] - 2]);
});

test("mirror: pixels swap left to right, rows unchanged; twice is the identity", () => {
  const img = { width: 3, height: 2, data: Uint8Array.from({ length: 18 }, (_, i) => i) };
  const m = mirror(img);
  assert.deepEqual(Array.from(m.data.slice(0, 9)), [6, 7, 8, 3, 4, 5, 0, 1, 2]);
  assert.deepEqual(Array.from(m.data.slice(9)), [15, 16, 17, 12, 13, 14, 9, 10, 11]);
  assert.deepEqual(mirror(m).data, img.data);
});

test("meanUnit and compose: the normalised mean of the named variants; dark or faceless images are null", () => {
  const v = meanUnit([
    [1, 0],
    [0, 1],
  ]);
  assert.ok(Math.abs(v[0]! - Math.SQRT1_2) < 1e-12 && Math.abs(v[1]! - Math.SQRT1_2) < 1e-12);
  const recs = [{ brightness: 100, fr: { plain: [1, 0], flip: [0, 1] } }, { brightness: 20, fr: { plain: [1, 0], flip: [0, 1] } }, { brightness: null }];
  const part = compose(recs, "fr", ["plain", "flip"], 30);
  assert.ok(Math.abs(part[0]![1]! - Math.SQRT1_2) < 1e-12);
  assert.equal(part[1], null);
  assert.equal(part[2], null);
  assert.deepEqual(compose(recs, "fr", ["plain"], 30)[0], [1, 0]);
});

test("simplex: every grid point sums to 1, none negative, all points present", () => {
  const g = simplex(3, 0.5);
  assert.equal(g.length, 6);
  for (const w of g) {
    assert.ok(Math.abs(w.reduce((s, x) => s + x, 0) - 1) < 1e-12);
    assert.ok(w.every((x) => x >= 0));
  }
});

// Four people, two photos each; part 0 separates them, part 1 is noise that ranks a stranger first.
const img = (identity: string, photo: string): EvalImage => ({
  file: `${identity}${photo}`,
  identity,
  photo_id: `${identity}${photo}`,
  kind: "photo",
  source: "t",
  licence: "t",
});
const images = ["a", "b", "c", "d"].flatMap((p) => [img(p, "1"), img(p, "2")]);
const goodPart = images.map((im) => {
  const k = "abcd".indexOf(im.identity);
  const base = [0, 0, 0, 0];
  base[k] = 1;
  return meanUnit([base, im.file.endsWith("1") ? [0.1, 0.1, 0.1, 0.1] : [0.05, 0, 0.05, 0]]);
});
const noisePart = images.map((_, i) => meanUnit([[Math.cos(i), Math.sin(i)]]));

test("fusedScore and tmrOf: a missing required part is a miss for genuine pairs and absent for impostors; an optional one is filled", () => {
  const t = pairTable(images, [goodPart, [null, ...noisePart.slice(1)]]);
  const genuine01 = t.kind.findIndex((k) => k === "cross_photo");
  assert.ok(Number.isNaN(fusedScore(t, genuine01, [0.5, 0.5], 2, [])));
  assert.ok(!Number.isNaN(fusedScore(t, genuine01, [0.5, 0.5], 1, [0, 0.25])));
  const r = tmrOf(
    t.kind,
    Float64Array.from(t.kind, (_, i) => fusedScore(t, i, [1, 0], 2, [])),
  );
  assert.equal(r.cross0, 3 / 4); // person a's pair has no part-1 face: a miss
});

test("fitWeights prefers the separating part; crossValidated fits each fold without its identities and scores the baseline on the same folds", () => {
  const t = pairTable(images, [goodPart, noisePart]);
  const grid = simplex(2, 0.25);
  const w = fitWeights(t, grid, 2, [], () => true);
  const at = (ws: number[]) =>
    tmrOf(
      t.kind,
      Float64Array.from(t.kind, (_, i) => fusedScore(t, i, ws, 2, [])),
    ).cross0;
  assert.ok(at([0, 1]) < 1, "the noise part alone ranks a stranger above some same-person pair");
  assert.ok(w[0]! > 0, `weights ${w}`);
  assert.equal(at(w), 1);
  const f = folds(4, 2, 7);
  assert.deepEqual([...f].sort(), [0, 0, 1, 1]);
  const cv = crossValidated(t, grid, 2, [], [0, 1], 2, 7);
  assert.equal(cv.weights.length, 2);
  for (const r of [cv.cv, cv.base]) for (const x of [r.cross0, r.cross1]) assert.ok(x >= 0 && x <= 1);
  // Each fold holds two people: the separating part matches both pairs at the fold's FMR 0.
  assert.equal(cv.cv.cross0, 1);
});

test("tmrOf reads the same operating points as metrics.ts tmrAtFmr", () => {
  const r = mulberry32(5);
  const kind: ("cross_photo" | "variant" | "impostor")[] = [];
  const s: number[] = [];
  for (let i = 0; i < 3000; i++) {
    const k = i % 10 === 0 ? "cross_photo" : i % 10 === 1 ? "variant" : "impostor";
    kind.push(k);
    s.push(k === "impostor" ? r() * 0.7 : 0.4 + r() * 0.6);
  }
  const got = tmrOf(kind, s);
  const pick = (k: string) => s.filter((_, i) => kind[i] === k);
  for (const [f, cross, variant] of [
    [0, got.cross0, got.var0],
    [0.001, got.cross1, got.var1],
  ] as const) {
    assert.equal(cross, tmrAtFmr(pick("cross_photo"), pick("impostor"), f).tmr);
    assert.equal(variant, tmrAtFmr(pick("variant"), pick("impostor"), f).tmr);
  }
  assert.equal(got.thr0, tmrAtFmr(pick("cross_photo"), pick("impostor"), 0).threshold);
});

test("bootstrapFmr0: no difference between a scoring and itself; a scoring that separates better gains in most draws", () => {
  const t = pairTable(images, [goodPart, noisePart]);
  const good = Float64Array.from(t.kind, (_, i) => fusedScore(t, i, [1, 0], 2, []));
  const noise = Float64Array.from(t.kind, (_, i) => fusedScore(t, i, [0, 1], 2, []));
  const same = bootstrapFmr0(t, good, good, 200, 3);
  assert.deepEqual([same.lo, same.mid, same.hi, same.notBetter], [0, 0, 0, 1]);
  const gain = bootstrapFmr0(t, noise, good, 200, 3);
  assert.ok(gain.mid > 0 && gain.notBetter < 0.5, JSON.stringify(gain));
});
