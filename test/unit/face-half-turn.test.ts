/**
 * The half-turn check's rule (plugins/face/half-turn.ts) on a fake backend whose crop scores
 * are set by the test: which faces are trusted without a check, which crop is scored first,
 * the floor and the margin; and the refutation of a quarter turn by the same scores. The real BlazeFace on real turned photos: face-api-rotation.test.ts.
 */
import { test } from "vitest";
import assert from "node:assert/strict";
import { BLAZEFACE_INPUT } from "../../plugins/face/blazeface-score.ts";
import { HALF_TURN, quarterTurnRefuted, upsideDown } from "../../plugins/face/half-turn.ts";
import type { WorkFrame } from "../../plugins/face/frame.ts";
import type { DetectedFace, FaceBackend, RgbImage } from "../../plugins/face/types.ts";

const lm = { left_eye: [0, 0], right_eye: [0, 0], nose: [0, 0], mouth_left: [0, 0], mouth_right: [0, 0] } as DetectedFace["landmarks"];
const face = (bbox: DetectedFace["bbox"], confidence: number): DetectedFace => ({ bbox, confidence, landmarks: lm });
/** 64x64 image, one grey level per quadrant (top-left 0, others brighter), so a crop's turn shows in its top-left pixels. */
const quadrant = (x: number, y: number) => (x < 32 ? (y < 32 ? 0 : 120) : y < 32 ? 60 : 200);
const image: RgbImage = {
  width: 64,
  height: 64,
  data: Uint8Array.from({ length: 64 * 64 * 3 }, (_, i) => quadrant(Math.floor(i / 3) % 64, Math.floor(i / 192))),
};
const frame: WorkFrame = { image, scale: 1, rotation: 0, sourceWidth: 64, sourceHeight: 64 };
const signal = new AbortController().signal;

/** A backend whose crop score is `asFound` for a crop as found (its top-left pixels from the dark quadrant), else `turned`. */
function fakeBackend(asFound: number, turned: number, withScores = true) {
  const calls: string[] = [];
  const backend = {
    model: "face-api",
    embeddingDim: 128,
    uprightDetector: "tiny_face_detector",
    detect: async () => [],
    embed: async () => new Float32Array(128),
    ...(withScores
      ? {
          cropFaceScores: async (crops: RgbImage[]) =>
            crops.map((c) => {
              assert.deepEqual([c.width, c.height], [BLAZEFACE_INPUT, BLAZEFACE_INPUT]);
              const asIs = c.data[(60 * BLAZEFACE_INPUT + 60) * 3]! < 30;
              calls.push(asIs ? "as found" : "turned");
              return asIs ? asFound : turned;
            }),
        }
      : {}),
  } satisfies FaceBackend;
  return { backend, calls };
}

test("a clearly better turned crop says upside down; the turned crop is scored first", async () => {
  const { backend, calls } = fakeBackend(0.6, 0.9);
  assert.equal(await upsideDown(backend, { faces: [face([24, 24, 40, 40], 0.7)], detector: "tiny_face_detector", frame }, signal), true);
  assert.deepEqual(calls, ["turned", "as found"]);
});

test("the margin: a turned crop only slightly better keeps the turn found", async () => {
  const { backend } = fakeBackend(0.85, 0.85 + HALF_TURN.margin - 0.01);
  assert.equal(await upsideDown(backend, { faces: [face([24, 24, 40, 40], 0.7)], detector: "ssd_mobilenetv1", frame }, signal), false);
});

test("a turned crop below the floor stops after one score, whatever the crop as found scores", async () => {
  const { backend, calls } = fakeBackend(0.1, HALF_TURN.minTurned - 0.01);
  assert.equal(await upsideDown(backend, { faces: [face([24, 24, 40, 40], 0.7)], detector: "tiny_face_detector", frame }, signal), false);
  assert.deepEqual(calls, ["turned"]);
});

test("faces the upright detector trusts highly are not checked; SSD faces at the same score are", async () => {
  const { backend, calls } = fakeBackend(0.5, 0.95);
  const trusted = { faces: [face([24, 24, 40, 40], HALF_TURN.trustUpright)], detector: "tiny_face_detector", frame };
  assert.equal(await upsideDown(backend, trusted, signal), false);
  assert.deepEqual(calls, []);
  assert.equal(await upsideDown(backend, { ...trusted, detector: "ssd_mobilenetv1" }, signal), true);
});

test("the largest face is the one checked; no faces or no crop scorer answers false", async () => {
  const { backend, calls } = fakeBackend(0.5, 0.95);
  // A small face inside the dark quadrant (its crop stays dark at any turn) and a large one centred.
  const small = face([2, 2, 10, 10], 0.6);
  const large = face([16, 16, 48, 48], 0.6);
  assert.equal(await upsideDown(backend, { faces: [small, large], detector: "tiny_face_detector", frame }, signal), true);
  assert.equal(calls.length, 2);
  assert.equal(await upsideDown(backend, { faces: [], detector: "tiny_face_detector", frame }, signal), false);
  assert.equal(await upsideDown(fakeBackend(0.5, 0.95, false).backend, { faces: [large], detector: "tiny_face_detector", frame }, signal), false);
});

test("a quarter turn Tiny probed is refuted when the crop as found scores clearly better; both crops scored", async () => {
  const found = { faces: [face([24, 24, 40, 40], 0.8)], detector: "ssd_mobilenetv1", frame };
  const refuting = fakeBackend(0.95, 0.95 - HALF_TURN.margin - 0.01);
  assert.equal(await quarterTurnRefuted(refuting.backend, found, 270, signal), true);
  assert.deepEqual(refuting.calls, ["as found", "turned"]);
  // Within the margin, or the turned crop better: the probe stands.
  assert.equal(await quarterTurnRefuted(fakeBackend(0.95, 0.95 - HALF_TURN.margin + 0.01).backend, found, 270, signal), false);
  assert.equal(await quarterTurnRefuted(fakeBackend(0.7, 0.9).backend, found, 270, signal), false);
  assert.equal(await quarterTurnRefuted(fakeBackend(0.95, 0.5, false).backend, found, 270, signal), false);
  assert.equal(await quarterTurnRefuted(refuting.backend, { ...found, faces: [] }, 270, signal), false);
});
