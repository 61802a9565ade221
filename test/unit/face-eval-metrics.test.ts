/** TMR-at-FMR and ROC arithmetic of the face evaluation, and pair kinds from the manifest. */
import { test } from "vitest";
import assert from "node:assert/strict";
import { rocPoints, tmrAtFmr } from "../../scripts/face-eval/metrics.ts";
import { pairsOf, type EvalImage } from "../../scripts/face-eval/manifest.ts";

test("TMR at FMR 0 puts the threshold just above the highest impostor score", () => {
  const genuine = [0.99, 0.97, 0.95, 0.93, 0.91];
  const impostor = [0.5, 0.8, 0.94, 0.9];
  const p = tmrAtFmr(genuine, impostor, 0);
  assert.ok(p.threshold > 0.94 && p.threshold < 0.9401);
  assert.equal(p.fmr, 0);
  assert.equal(p.tmr, 3 / 5);
  assert.equal(p.allowedFalse, 0);
});

test("an FMR budget allows floor(budget x impostors) false matches; below 1/budget impostors it equals FMR 0", () => {
  const impostor = Array.from({ length: 2000 }, (_, i) => i / 2000); // 0 .. 0.9995
  const genuine = [0.9985, 0.999, 0.9992];
  const p = tmrAtFmr(genuine, impostor, 0.001);
  assert.equal(p.allowedFalse, 2);
  assert.ok(p.fmr <= 0.001);
  // Third-highest impostor is 0.9985: the threshold sits just above it, so that genuine 0.9985 is lost.
  assert.ok(p.threshold > 0.9985 && p.threshold < 0.999);
  assert.equal(p.fmr, 2 / 2000);
  assert.equal(p.tmr, 2 / 3);
  assert.deepEqual(tmrAtFmr(genuine, impostor.slice(0, 500), 0.001).allowedFalse, 0);
});

test("rocPoints counts scores at or above each threshold", () => {
  assert.deepEqual(rocPoints([0.9, 0.8], [0.85, 0.1], [0.85]), [{ threshold: 0.85, tmr: 0.5, fmr: 0.5 }]);
});

test("pairsOf: different identities are impostors, same identity and photo a variant pair, else cross-photo", () => {
  const im = (identity: string, photo_id: string): EvalImage => ({
    file: `${photo_id}.png`,
    identity,
    photo_id,
    kind: "photo",
    source: "test",
    licence: "test",
  });
  const kinds = pairsOf([im("a", "a1"), im("a", "a1"), im("a", "a2"), im("b", "b1")]).map((p) => p.kind);
  assert.deepEqual(kinds, ["variant", "cross_photo", "impostor", "cross_photo", "impostor", "impostor"]);
});

test("calibrate: the FMR-budget point of the dev impostors, rounded up to 0.001, over cross-photo and variant pairs together", async () => {
  const { calibrate } = await import("../../scripts/face-eval/calibrate.ts");
  const c = calibrate({ cross_photo: [0.5, 0.62, 0.7, -1], variant: [0.9, 0.6, 0.61], impostor: [0.1, 0.3, 0.6049, 0.2] }, 0);
  // Highest impostor 0.6049 -> 0.605: the impostor stays below, 0.61 (variant) and up match.
  assert.equal(c.threshold, 0.605);
  assert.equal(c.impostorMax, 0.6049);
  assert.equal(c.tmrCrossPhoto, 2 / 4);
  assert.equal(c.tmrVariant, 2 / 3);
  // An impostor exactly on the grid is not matched: the threshold moves one step up.
  assert.equal(calibrate({ cross_photo: [0.9], variant: [], impostor: [0.7] }, 0).threshold, 0.701);
  // Default budget 0.1 %: with 2,000 impostors two may match, so the third-highest sets it.
  const imp = Array.from({ length: 2000 }, (_, i) => (i < 1997 ? 0.3 : [0.6555, 0.8, 0.9][i - 1997]!));
  const d = calibrate({ cross_photo: [0.7, 0.6], variant: [0.95], impostor: imp });
  assert.equal(d.maxFmr, 0.001);
  assert.equal(d.threshold, 0.656);
  assert.equal(d.fmr, 2 / 2000);
  assert.equal(d.tmrCrossPhoto, 1 / 2);
});

test("the stored thresholds are calibrate()'s answer on the measured dev scores (test/fixtures/face-calibration-scores.json)", async () => {
  const { calibrate } = await import("../../scripts/face-eval/calibrate.ts");
  const { MODEL_THRESHOLDS } = await import("../../core/characters/thresholds.ts");
  const fs = await import("node:fs");
  const { SCORES_FIXTURE } = await import("../../scripts/face-eval/export-scores.ts");
  const fx = JSON.parse(fs.readFileSync(SCORES_FIXTURE, "utf8")) as {
    models: Record<string, { cross_photo: number[]; variant: number[]; impostor_count: number; impostor_top: number[] }>;
  };
  assert.deepEqual(Object.keys(fx.models).sort(), ["face-api", "faceplugin-fr", "fusion-fr-faceres", "human-faceres"]);
  for (const [model, s] of Object.entries(fx.models)) {
    assert.ok(s.cross_photo.length >= 300, `${model}: cross-photo pairs in the dev set`);
    // Impostors below the kept top share cannot move a 0.1 % threshold: stand them in at -1.
    const impostor = [...s.impostor_top, ...new Array<number>(s.impostor_count - s.impostor_top.length).fill(-1)];
    const c = calibrate({ cross_photo: s.cross_photo, variant: s.variant, impostor });
    assert.equal(MODEL_THRESHOLDS[model]!.threshold, c.threshold, model);
    assert.ok(c.fmr <= 0.001, model);
  }
});
