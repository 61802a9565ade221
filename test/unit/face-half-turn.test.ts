/**
 * The half-turn check's rule (plugins/face/half-turn.ts) on a fake backend whose crop scores
 * are set by the test: which faces are trusted without a check, which crop is scored first,
 * the floor and the margin. The real BlazeFace on real turned photos: face-api-rotation.test.ts.
 */
import { test } from "vitest";
import assert from "node:assert/strict";
import { BLAZEFACE_INPUT } from "../../plugins/face/blazeface-score.ts";
import { HALF_TURN, upsideDown } from "../../plugins/face/half-turn.ts";
import type { WorkFrame } from "../../plugins/face/frame.ts";
import type { DetectedFace, FaceBackend, RgbImage } from "../../plugins/face/types.ts";

const lm = { left_eye: [0, 0], right_eye: [0, 0], nose: [0, 0], mouth_left: [0, 0], mouth_right: [0, 0] } as DetectedFace["landmarks"];
const face = (bbox: DetectedFace["bbox"], confidence: number): DetectedFace => ({ bbox, confidence, landmarks: lm });
/** 64x64 image: left half black, right half white, so a crop's orientation shows in its pixels. */
const image: RgbImage = { width: 64, height: 64, data: Uint8Array.from({ length: 64 * 64 * 3 }, (_, i) => (Math.floor(i / 3) % 64 < 32 ? 0 : 255)) };
const frame: WorkFrame = { image, scale: 1, rotation: 0, sourceWidth: 64, sourceHeight: 64 };
const signal = new AbortController().signal;

/** A backend whose crop score is `turned` when the crop's left edge is white (the crop turned 180 degrees), else `asFound`. */
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
              const leftWhite = c.data[(128 * BLAZEFACE_INPUT + 100) * 3]! > 128;
              calls.push(leftWhite ? "turned" : "as found");
              return leftWhite ? turned : asFound;
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
  // A small face on the black half and a large one centred: the large one's crop straddles both halves.
  const small = face([2, 2, 10, 10], 0.6);
  const large = face([16, 16, 48, 48], 0.6);
  assert.equal(await upsideDown(backend, { faces: [small, large], detector: "tiny_face_detector", frame }, signal), true);
  assert.equal(calls.length, 2);
  assert.equal(await upsideDown(backend, { faces: [], detector: "tiny_face_detector", frame }, signal), false);
  assert.equal(await upsideDown(fakeBackend(0.5, 0.95, false).backend, { faces: [large], detector: "tiny_face_detector", frame }, signal), false);
});
