/** Quarter-turn rotation of RGB images and the mapping of boxes/points back to the source frame. */
import { test } from "vitest";
import assert from "node:assert/strict";
import { faceCrop, halveImage, padImage, rotateRgb, toSourceBox, toSourcePoint, type Rotation, type WorkFrame } from "../../plugins/face/frame.ts";
import type { RgbImage } from "../../plugins/face/types.ts";

/** 3x2 image whose pixel (x, y) has R = x, G = y. */
const img: RgbImage = { width: 3, height: 2, data: Uint8Array.from({ length: 18 }, (_, i) => [Math.floor(i / 3) % 3, Math.floor(i / 9), 7][i % 3]!) };
const px = (im: RgbImage, x: number, y: number) => [im.data[(y * im.width + x) * 3]!, im.data[(y * im.width + x) * 3 + 1]!];

test("rotateRgb turns clockwise: the top-left pixel goes to the top-right (90), bottom-right (180), bottom-left (270)", () => {
  const r90 = rotateRgb(img, 90);
  assert.deepEqual([r90.width, r90.height], [2, 3]);
  assert.deepEqual(px(r90, 1, 0), [0, 0]);
  assert.deepEqual(px(r90, 0, 0), [0, 1]); // source bottom-left comes to the top-left
  const r180 = rotateRgb(img, 180);
  assert.deepEqual(px(r180, 2, 1), [0, 0]);
  assert.deepEqual(px(r180, 0, 0), [2, 1]);
  const r270 = rotateRgb(img, 270);
  assert.deepEqual([r270.width, r270.height], [2, 3]);
  assert.deepEqual(px(r270, 0, 2), [0, 0]);
  assert.deepEqual(px(r270, 0, 0), [2, 0]);
  // Four quarter turns are the identity.
  assert.deepEqual(rotateRgb(rotateRgb(r90, 90), 180).data, img.data);
});

test("points and boxes found in a rotated, shrunk frame map back to source pixels", () => {
  // Source 400x200, shrunk by 0.5 to 200x100, then turned.
  for (const rotation of [0, 90, 180, 270] as Rotation[]) {
    const base: RgbImage = { width: 200, height: 100, data: new Uint8Array(200 * 100 * 3) };
    const image = rotateRgb(base, rotation);
    const frame: WorkFrame = { image, scale: 0.5, rotation, sourceWidth: 400, sourceHeight: 200 };
    // Where does source point (60, 40) (= working (30, 20)) sit in the rotated frame?
    const [x, y] = [30, 20];
    const inRotated: [number, number] = rotation === 90 ? [100 - y, x] : rotation === 180 ? [200 - x, 100 - y] : rotation === 270 ? [y, 200 - x] : [x, y];
    const back = toSourcePoint(frame, inRotated);
    assert.deepEqual(
      back.map((v) => Math.round(v * 1000) / 1000),
      [60, 40],
      `rotation ${rotation}`,
    );
    const b = toSourceBox(frame, [inRotated[0], inRotated[1], inRotated[0] + (rotation === 0 ? 10 : 0), inRotated[1] + 10]);
    assert.ok(b[0] <= b[2] && b[1] <= b[3], `box ordered for ${rotation}`);
  }
});

test("padImage: the image inside a grey border; points found in the padded frame map back, clipped to the source", () => {
  const p = padImage(img, 2);
  assert.deepEqual([p.width, p.height], [7, 6]);
  assert.deepEqual(px(p, 2, 2), [0, 0]);
  assert.deepEqual(px(p, 4, 3), [2, 1]);
  assert.deepEqual([p.data[0], p.data[1], p.data[2]], [128, 128, 128]);
  assert.deepEqual([...p.data.subarray((5 * 7 + 6) * 3)], [128, 128, 128]);
  // Source 6x4 shrunk by 0.5 to this 3x2 image, padded by 2.
  const frame: WorkFrame = { image: p, scale: 0.5, rotation: 0, sourceWidth: 6, sourceHeight: 4, pad: 2 };
  assert.deepEqual(toSourcePoint(frame, [3, 3]), [2, 2]);
  assert.deepEqual(toSourceBox(frame, [1, 1, 6, 5]), [0, 0, 6, 4]);
  // Turned frames subtract the border before turning back: a 90-degree frame of the 3x2 image is 2x3, padded 6x7.
  const t: WorkFrame = { image: padImage(rotateRgb(img, 90), 2), scale: 1, rotation: 90, sourceWidth: 3, sourceHeight: 2, pad: 2 };
  assert.deepEqual(toSourcePoint(t, [2, 2]), toSourcePoint({ ...t, image: rotateRgb(img, 90), pad: 0 }, [0, 0]));
});

test("faceCrop: a square around the box at `factor` times its longer side, resampled to `side`, grey past the image's edge", () => {
  // 40x20 gradient: R = x * 5, G = y * 10.
  const w = 40,
    h = 20;
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set([x * 5, y * 10, 0], (y * w + x) * 3);
  const grad: RgbImage = { width: w, height: h, data };
  // Box 10 wide, 4 high around (20, 10): the crop spans 20 source pixels, 10..30 and 0..20, at 2 pixels per output pixel.
  const c = faceCrop(grad, [15, 8, 25, 12], 2, 10);
  assert.deepEqual([c.width, c.height], [10, 10]);
  // Output pixel (u, v) samples source (10.5 + 2u, 0.5 + 2v): bilinear, so R = 5 * x, G = 10 * y exactly.
  assert.deepEqual([...c.data.subarray((3 * 10 + 4) * 3, (3 * 10 + 4) * 3 + 3)], [Math.round(5 * 18.5), Math.round(10 * 6.5), 0]);
  // A crop reaching past the left edge: grey there, the image inside.
  const edge = faceCrop(grad, [0, 8, 4, 12], 4, 8);
  assert.deepEqual([...edge.data.subarray(0, 3)], [128, 128, 128]);
  const inside = (4 * 8 + 6) * 3;
  assert.notDeepEqual([...edge.data.subarray(inside, inside + 3)], [128, 128, 128]);
});

test("halveImage: each pixel the rounded mean of a 2x2 block; an odd last column is dropped", () => {
  // 5x2: R = x * 10, G = y * 100, B = 7.
  const data = new Uint8Array(5 * 2 * 3);
  for (let y = 0; y < 2; y++) for (let x = 0; x < 5; x++) data.set([x * 10, y * 100, 7], (y * 5 + x) * 3);
  const h = halveImage({ width: 5, height: 2, data });
  assert.deepEqual([h.width, h.height], [2, 1]);
  assert.deepEqual([...h.data], [5, 50, 7, 25, 50, 7]);
});
