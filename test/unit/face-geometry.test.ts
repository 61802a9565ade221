import { test } from "vitest";
import assert from "node:assert/strict";
import { ARCFACE_TEMPLATE, applyAffine, arcfaceTensor, estimateSimilarity, invertAffine, warpAffine } from "../../plugins/face/insightface/align.ts";
import { anchorCenters, decodeScrfd, letterbox, letterboxSize } from "../../plugins/face/insightface/scrfd.ts";
import { iou, landmarksUpright, largestFace, nms, similarToLargest } from "../../plugins/face/geometry.ts";
import { fiveFromMesh } from "../../plugins/face/human/backend.ts";
import { fiveFrom68, tileGrid } from "../../plugins/face/faceapi-backend.ts";
import type { DetectedFace, Point } from "../../plugins/face/types.ts";

const close = (a: number, b: number, tol: number, what = "") => assert.ok(Math.abs(a - b) <= tol, `${what} ${a} vs ${b}`);

test("estimateSimilarity recovers a known rotation + scale + translation exactly", () => {
  const th = (25 * Math.PI) / 180,
    s = 1.7,
    tx = 40,
    ty = -12;
  const dst = ARCFACE_TEMPLATE.map(([x, y]) => [s * (Math.cos(th) * x - Math.sin(th) * y) + tx, s * (Math.sin(th) * x + Math.cos(th) * y) + ty] as Point);
  const m = estimateSimilarity(ARCFACE_TEMPLATE, dst);
  close(m[0], s * Math.cos(th), 1e-9, "a");
  close(m[1], -s * Math.sin(th), 1e-9, "b");
  close(m[3], s * Math.sin(th), 1e-9, "c");
  close(m[4], s * Math.cos(th), 1e-9, "d");
  close(m[2], tx, 1e-9, "tx");
  close(m[5], ty, 1e-9, "ty");
  const back = applyAffine(invertAffine(m), dst[2]!);
  close(back[0], ARCFACE_TEMPLATE[2]![0], 1e-9);
  close(back[1], ARCFACE_TEMPLATE[2]![1], 1e-9);
});

test("estimateSimilarity is the least-squares fit for noisy points (matches Umeyama on a worked example)", () => {
  // Landmarks of a face 2x the template, shifted, with one point perturbed.
  const src: Point[] = ARCFACE_TEMPLATE.map(([x, y]) => [2 * x + 100, 2 * y + 50]);
  src[2] = [src[2]![0] + 4, src[2]![1]];
  const m = estimateSimilarity(src, ARCFACE_TEMPLATE);
  // Perturbing one point moves the fit a little, never a reflection, scale stays ~0.5.
  const scale = Math.hypot(m[0], m[3]);
  close(scale, 0.5, 0.01, "scale");
  assert.ok(m[0] * m[4] - m[1] * m[3] > 0, "proper rotation");
  // Residual is the minimum: nudging the translation increases it.
  const resid = (mm: typeof m) =>
    src.reduce((acc, p, i) => {
      const q = applyAffine(mm, p);
      return acc + (q[0] - ARCFACE_TEMPLATE[i]![0]) ** 2 + (q[1] - ARCFACE_TEMPLATE[i]![1]) ** 2;
    }, 0);
  const nudged = [...m] as typeof m;
  nudged[2] += 0.1;
  assert.ok(resid(m) < resid(nudged));
});

test("warpAffine with the identity copies pixels; arcfaceTensor normalises to [-1, 1] NCHW", () => {
  const data = new Uint8Array(4 * 4 * 3).map((_, i) => i * 5);
  const out = warpAffine({ width: 4, height: 4, data }, [1, 0, 0, 0, 1, 0], 4);
  assert.deepEqual(Array.from(out.data), Array.from(data));
  const t = arcfaceTensor({ width: 1, height: 1, data: new Uint8Array([0, 255, 128]) });
  assert.deepEqual(
    Array.from(t).map((v) => Math.round(v * 1000) / 1000),
    [-1, 1, 0.004],
  );
});

test("letterbox: aspect kept, placed top-left, scale = resized/source, padding = (0-127.5)/128", async () => {
  assert.deepEqual(letterboxSize(1280, 960), { w: 640, h: 480, scale: 0.5 });
  const portrait = letterboxSize(300, 600);
  assert.equal(portrait.h, 640);
  assert.equal(portrait.w, 320);
  close(portrait.scale, 640 / 600, 1e-12);
  const img = { width: 64, height: 32, data: new Uint8Array(64 * 32 * 3).fill(255) };
  const lb = await letterbox(img, 640);
  assert.equal(lb.scale, 10);
  close(lb.tensor[0]!, 127.5 / 128, 1e-6, "image pixel");
  close(lb.tensor[400 * 640 + 10]!, -127.5 / 128, 1e-6, "padding row");
});

test("anchor centres: row-major cells, each repeated for its 2 anchors", () => {
  const c = anchorCenters(640, 32);
  assert.equal(c.length, 20 * 20 * 2 * 2);
  assert.deepEqual(Array.from(c.slice(0, 8)), [0, 0, 0, 0, 32, 0, 32, 0]);
  const i = (3 * 20 + 5) * 2 + 1;
  assert.deepEqual([c[2 * i], c[2 * i + 1]], [160, 96]);
});

test("decodeScrfd: distance2bbox / distance2kps, threshold, NMS, scale back", () => {
  const mk = (n: number) => ({ scores: new Float32Array(n), boxes: new Float32Array(n * 4), kps: new Float32Array(n * 10) });
  const s8 = mk(12800),
    s16 = mk(3200),
    s32 = mk(800);
  const i = (2 * 20 + 3) * 2; // stride 32, cell (3, 2): centre (96, 64)
  s32.scores[i] = 0.95;
  s32.boxes.set([1, 0.5, 2, 1.5], i * 4);
  s32.kps.set([-0.5, -0.25, 0.5, -0.25, 0, 0, -0.25, 0.5, 0.25, 0.5], i * 10);
  s32.scores[i + 1] = 0.6; // overlapping duplicate
  s32.boxes.set([1, 0.5, 2, 1.4], (i + 1) * 4);
  const faces = decodeScrfd(
    [
      { stride: 8, ...s8 },
      { stride: 16, ...s16 },
      { stride: 32, ...s32 },
    ],
    { scale: 2 },
  );
  assert.equal(faces.length, 1);
  const f = faces[0]!;
  assert.deepEqual(f.bbox, [(96 - 32) / 2, (64 - 16) / 2, (96 + 64) / 2, (64 + 48) / 2]);
  assert.deepEqual(f.landmarks.left_eye, [(96 - 16) / 2, (64 - 8) / 2]);
  assert.deepEqual(f.landmarks.nose, [48, 32]);
  assert.deepEqual(f.landmarks.mouth_right, [(96 + 8) / 2, (64 + 16) / 2]);
});

test("nms keeps the best of overlapping boxes and drops partial boxes inside a whole one", () => {
  const boxes: [number, number, number, number][] = [
    [0, 0, 10, 10],
    [1, 1, 11, 11],
    [50, 50, 60, 60],
    [0, 0, 5, 10],
  ];
  assert.deepEqual(nms(boxes, [0.9, 0.8, 0.7, 0.95], 0.4), [3, 1, 2]); // [0,0,10,10] overlaps the best by IoU 0.5
  assert.deepEqual(nms(boxes, [0.9, 0.8, 0.7, 0.6], 0.4, 0.8), [0, 2]);
  close(iou([0, 0, 10, 10], [5, 0, 15, 10]), 1 / 3, 1e-12);
});

test("largest face and ambiguity count for reference photos", () => {
  const f = (w: number): DetectedFace => ({
    bbox: [0, 0, w, w],
    confidence: 1,
    landmarks: { left_eye: [0, 0], right_eye: [0, 0], nose: [0, 0], mouth_left: [0, 0], mouth_right: [0, 0] },
  });
  assert.equal(largestFace([f(10), f(30), f(20)]), 1);
  assert.equal(largestFace([]), -1);
  assert.equal(similarToLargest([f(100), f(40)]), 1);
  assert.equal(similarToLargest([f(100), f(95), f(20)]), 2);
});

test("five named landmarks from the 68-point layout; tile grid covers the image", () => {
  const pts = Array.from({ length: 68 }, (_, i) => ({ x: i, y: 100 + i }));
  const five = fiveFrom68(pts);
  assert.deepEqual(five.left_eye, [38.5, 138.5]);
  assert.deepEqual(five.right_eye, [44.5, 144.5]);
  assert.deepEqual(five.nose, [30, 130]);
  assert.deepEqual(five.mouth_left, [48, 148]);
  assert.deepEqual(five.mouth_right, [54, 154]);
  const grid = tileGrid(2600, 1800, 1024);
  assert.ok(grid.every(([x1, y1, x2, y2]) => x2 - x1 === 1024 && y2 - y1 === 1024 && x2 <= 2600 && y2 <= 1800));
  assert.ok(grid.some(([, , x2]) => x2 === 2600) && grid.some(([, , , y2]) => y2 === 1800));
});

test("landmarksUpright: the ArcFace template is upright; its quarter and half turns, and a mirrored face, are not; all-zero landmarks count as upright", () => {
  const [le, re, nose, ml, mr] = ARCFACE_TEMPLATE;
  const lm = (f: (p: Point) => Point) => ({ left_eye: f(le!), right_eye: f(re!), nose: f(nose!), mouth_left: f(ml!), mouth_right: f(mr!) });
  assert.equal(landmarksUpright(lm((p) => p)), true);
  assert.equal(landmarksUpright(lm(([x, y]) => [200 - y, x])), false, "90 clockwise");
  assert.equal(landmarksUpright(lm(([x, y]) => [y, 200 - x])), false, "270 clockwise");
  assert.equal(landmarksUpright(lm(([x, y]) => [200 - x, 200 - y])), false, "180");
  assert.equal(landmarksUpright({ ...lm((p) => p), left_eye: re!, right_eye: le! }), false, "eyes swapped");
  assert.equal(landmarksUpright(lm(() => [0, 0])), true);
});

test("fiveFromMesh names the points by the mesh's anatomy, not by image x: a sideways face keeps its eyes apart in the right order", () => {
  const pt = (x: number, y: number): [number, number, number] => [x, y, 0];
  // A face turned 90 degrees clockwise: the subject's right eye (mesh "rightEye", the template's left_eye) is on top.
  const mesh = {
    rightEyeUpper0: [pt(300, 240)],
    rightEyeLower0: [pt(300, 250)],
    leftEyeUpper0: [pt(300, 340)],
    leftEyeLower0: [pt(300, 350)],
    noseTip: [pt(260, 300)],
    lipsUpperOuter: [pt(220, 260), pt(215, 300), pt(220, 340)],
  };
  const l = fiveFromMesh(mesh)!;
  assert.deepEqual(l.left_eye, [300, 245]);
  assert.deepEqual(l.right_eye, [300, 345]);
  assert.deepEqual(l.mouth_left, [220, 260]);
  assert.deepEqual(l.mouth_right, [220, 340]);
  assert.equal(landmarksUpright(l), false);
});
