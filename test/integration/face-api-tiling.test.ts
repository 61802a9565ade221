/**
 * Small faces in a large photo: SSD sees every input at 512x512, so ~100 px faces in a
 * 2600 px-wide photo shrink below what it can find. The tiled scan must find them.
 * Faces are cut from @vladmandic/face-api/demo/sample1.jpg.
 */
import { test } from "vitest";
import assert from "node:assert/strict";
import path from "node:path";
import { createRequire } from "node:module";
import sharp, { type OverlayOptions } from "sharp";
import { FaceApiBackend } from "../../plugins/face/faceapi-backend.ts";
import { decodeImage } from "../../plugins/face/image-decode.ts";
import { iou } from "../../plugins/face/geometry.ts";

const require = createRequire(import.meta.url);
const SAMPLE1 = path.join(path.dirname(require.resolve("@vladmandic/face-api/package.json")), "demo", "sample1.jpg");

test("tiled scan finds ~100 px faces in a 2600x1800 photo that the full-frame pass misses", async () => {
  // Face boxes in sample1.jpg (found by the detector on the full photo).
  const boxes = [
    [414, 355, 591, 595],
    [838, 421, 1024, 649],
  ] as const;
  const overlays: OverlayOptions[] = [];
  const planted: [number, number, number, number][] = [];
  for (const [i, [x1, y1, x2, y2]] of boxes.entries()) {
    const s = Math.max(x2 - x1, y2 - y1) * 2;
    const region = await sharp(SAMPLE1)
      .extract({ left: Math.round((x1 + x2) / 2 - s / 2), top: Math.round((y1 + y2) / 2 - s / 2), width: s, height: s })
      .resize(200, 200)
      .png()
      .toBuffer();
    for (const [left, top] of [
      [200 + i * 1300, 300],
      [900 + i * 1300, 1300],
    ] as const) {
      overlays.push({ input: region, left, top });
      planted.push([left + 50, top + 50, left + 150, top + 150]); // the face fills ~the middle half
    }
  }
  const photo = await decodeImage(
    await sharp({ create: { width: 2600, height: 1800, channels: 3, background: "#6e6e6e" } })
      .composite(overlays)
      .png()
      .toBuffer(),
  );

  const fullFrameOnly = await FaceApiBackend.create({ tileAbove: Number.POSITIVE_INFINITY });
  const tiled = await FaceApiBackend.create(); // defaults: tiles of 1024 px above 2048 px
  const coarse = await fullFrameOnly.detect(photo, undefined, { landmarks: false });
  const fine = await tiled.detect(photo, undefined, { landmarks: false });
  assert.ok(coarse.length < 4, `full frame found ${coarse.length}`);
  assert.equal(fine.length, 4);
  for (const p of planted) {
    assert.ok(
      fine.some((f) => iou(f.bbox, p) > 0.3),
      `no detection near planted face ${p}`,
    );
  }
});
