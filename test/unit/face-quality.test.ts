/**
 * The face-quality gate: the brightness and sharpness of an aligned face crop
 * (plugins/face/quality.ts), the cut that refuses a too-dark face (core/characters/quality.ts)
 * and what verify answers for one (not verifiable, no match whatever the similarity).
 */
import { test } from "vitest";
import assert from "node:assert/strict";
import { cropQuality, faceQuality } from "../../plugins/face/quality.ts";
import { ARCFACE_TEMPLATE } from "../../plugins/face/insightface/align.ts";
import { landmarksFromPoints, type RgbImage } from "../../plugins/face/types.ts";
import { buildCharacter, FACE_QUALITY_GATE, qualityIssues, sortReferences, verify } from "../../core/characters/index.ts";

const image = (size: number, px: (x: number, y: number) => number): RgbImage => {
  const data = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) data.fill(px(x, y), (y * size + x) * 3, (y * size + x) * 3 + 3);
  return { width: size, height: size, data };
};

test("cropQuality: a flat grey crop has its grey as brightness and no sharpness; a fine checkerboard is sharp", () => {
  const flat = cropQuality(image(112, () => 90).data);
  assert.equal(flat.brightness, 90);
  assert.equal(flat.sharpness, 0);
  const checker = cropQuality(image(112, (x, y) => ((x + y) % 2 ? 200 : 40)).data);
  assert.equal(checker.brightness, 120);
  assert.ok(checker.sharpness > 100_000, `checkerboard sharpness ${checker.sharpness}`);
});

test("faceQuality measures the face aligned to the template, not the whole frame", () => {
  // A 448 px frame, dark but for a bright square where the face is: the landmarks sit at the
  // template shifted by 168 px, so the aligned crop is frame[168..280] (inside the square).
  const frame = image(448, (x, y) => (x >= 150 && x < 300 && y >= 150 && y < 300 ? 180 : 10));
  const face = {
    bbox: [168, 168, 280, 280] as [number, number, number, number],
    confidence: 1,
    landmarks: landmarksFromPoints(ARCFACE_TEMPLATE.map(([x, y]) => [x + 168, y + 168] as [number, number])),
  };
  const q = faceQuality(frame, face);
  assert.equal(q.brightness, 180, "the face, not the frame (whose mean is about 29)");
  assert.equal(q.sharpness, 0);
  const dark = faceQuality(
    image(448, () => 12),
    face,
  );
  assert.equal(dark.brightness, 12);
});

test("qualityIssues: too dark below the calibrated cut, none at or above it or without a measurement", () => {
  assert.equal(FACE_QUALITY_GATE.min_brightness, 30);
  const issues = qualityIssues({ brightness: 22.5, sharpness: 500 });
  assert.equal(issues.length, 1);
  assert.equal(issues[0]!.code, "too_dark");
  assert.match(issues[0]!.message, /brightness 22\.5 < 30/);
  assert.deepEqual(qualityIssues({ brightness: 30 }), []);
  assert.deepEqual(qualityIssues(undefined), []);
  assert.deepEqual(qualityIssues({ brightness: "dark" }), []);
});

test("verify: a too-dark probe is not verifiable and not a match even when identical to a reference; a bright one matches", () => {
  const emb = [0.6, 0.8, 0];
  const rec = buildCharacter("Ava", "", "fusion-fr-faceres", [{ embedding: emb, source: "r.jpg" }]);
  const dark = verify(rec, emb, "fusion-fr-faceres", { brightness: 20, sharpness: 600 });
  assert.equal(dark.verifiable, false);
  assert.equal(dark.match, false);
  assert.equal(dark.confidence, "low");
  assert.ok(Math.abs(dark.similarity - 1) < 1e-9, "the similarity is still reported");
  assert.equal(dark.quality_issues?.[0]?.code, "too_dark");
  const bright = verify(rec, emb, "fusion-fr-faceres", { brightness: 120, sharpness: 600 });
  assert.equal(bright.verifiable, true);
  assert.equal(bright.match, true);
  assert.equal(bright.quality_issues, undefined);
  // Without quality (a node that does not report it) verify answers as before.
  assert.equal(verify(rec, emb, "fusion-fr-faceres").match, true);
});

test("sortReferences (register, add references, re-embed): a too-dark photo is refused with the gate's reason, a missing face with the node's, the rest kept with their stored keys", () => {
  const e = [1, 0, 0];
  const { accepted, rejected } = sortReferences(
    [
      { index: 0, ok: true, embedding: e, quality: { brightness: 140 } },
      { index: 1, ok: true, embedding: e, quality: { brightness: 12 } },
      { index: 2, ok: false, reason: "no face found" },
      { index: 3, ok: true, embedding: e }, // an older node without quality: kept
    ],
    ["uploads/a.png", "uploads/b.png", "uploads/c.png", "uploads/d.png"],
    "references",
  );
  assert.deepEqual(accepted, [
    { embedding: e, source: "uploads/a.png" },
    { embedding: e, source: "uploads/d.png" },
  ]);
  assert.deepEqual(
    rejected.map((r) => [r.index, r.field]),
    [
      [1, "references[1]"],
      [2, "references[2]"],
    ],
  );
  assert.match(rejected[0]!.reason, /too dark/);
  assert.equal(rejected[1]!.reason, "no face found");
});
