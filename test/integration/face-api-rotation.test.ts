/**
 * Rotation search and the work cap, through the plugin with the off-thread face-api backend:
 * - a real photo (a face of @vladmandic/face-api/demo/sample1.jpg) saved turned by a quarter
 *   or half turn WITHOUT an EXIF orientation tag is still found, the result says which
 *   clockwise turn found it, boxes come back in the stored image's pixels, and the identity
 *   embedding matches the upright photo's;
 * - an 8000x8000 PNG is scanned at the capped size with boxes in source pixels, while the
 *   agent's event loop stays responsive (inference runs in the worker thread);
 * - a tight crop (no face at any turn) is found on the retry inside a grey border;
 * - faces TinyFaceDetector also takes for upright when upside down (two face-api demo faces)
 *   are answered at the right turn by the half-turn check.
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import path from "node:path";
import { createRequire } from "node:module";
import sharp from "sharp";
import plugin from "../../plugins/face/index.ts";
import { cosine } from "../../core/characters/index.ts";
import { thresholdFor } from "../../core/characters/thresholds.ts";
import { FarmError } from "../../core/errors.ts";
import { FaceApiBackend } from "../../plugins/face/faceapi-backend.ts";
import { HALF_TURN } from "../../plugins/face/half-turn.ts";
import { decodeImage } from "../../plugins/face/image-decode.ts";
import { makeTaskContext, type TestTaskContext } from "../helpers/task-context.ts";

const require = createRequire(import.meta.url);
const SAMPLE1 = path.join(path.dirname(require.resolve("@vladmandic/face-api/package.json")), "demo", "sample1.jpg");
let ctx: TestTaskContext;
let n = 0;
const run = (type: string, params: Record<string, unknown>) => plugin.run({ job_id: `r${++n}`, type, params, attempt: 1 }, ctx);
type Face = { bbox: [number, number, number, number]; landmarks: Record<string, [number, number]> };

/** The left-hand person of sample1.jpg, 2.5x the face box: 600x600, face upright. */
let portrait: Buffer;

beforeAll(async () => {
  ctx = makeTaskContext();
  await plugin.init!({ logger: ctx.logger, modelsDir: ctx.modelsDir, config: {}, gpus: [] });
  portrait = await sharp(SAMPLE1).extract({ left: 205, top: 175, width: 600, height: 600 }).png().toBuffer();
  await ctx.artifacts.put("rot/0.png", portrait);
  for (const deg of [90, 180, 270]) {
    // sharp writes no EXIF orientation unless asked (withMetadata): the pixels themselves are turned.
    const turned = await sharp(portrait).rotate(deg).jpeg({ quality: 92 }).toBuffer();
    assert.equal((await sharp(turned).metadata()).orientation, undefined);
    await ctx.artifacts.put(`rot/${deg}.jpg`, turned);
  }
});
afterAll(() => ctx.cleanup());

test("upright photo: rotation 0", async () => {
  const r = await run("face.detect", { image: "rot/0.png" });
  assert.equal(r.face_count, 1);
  assert.equal(r.rotation, 0);
});

for (const deg of [90, 180, 270]) {
  test(`photo stored turned ${deg} degrees without EXIF: found by the rotation search, boxes in stored pixels, same identity`, async () => {
    const upright = await run("face.embed", { image: "rot/0.png" });
    const r = await run("face.detect", { image: `rot/${deg}.jpg` });
    assert.equal(r.face_count, 1, `faces in the ${deg} degree photo`);
    // Stored turned `deg` clockwise, so it is found after turning it back: (360 - deg) clockwise.
    assert.equal(r.rotation, (360 - deg) % 360);
    const face = (r.faces as Face[])[0]!;
    // The upright box, turned the way the stored pixels were.
    const [x1, y1, x2, y2] = upright.bbox as number[] as [number, number, number, number];
    const S = 600;
    const expected = deg === 90 ? [S - y2, x1, S - y1, x2] : deg === 180 ? [S - x2, S - y2, S - x1, S - y1] : [y1, S - x2, y2, S - x1];
    for (let i = 0; i < 4; i++) assert.ok(Math.abs(face.bbox[i]! - expected[i]!) < 40, `bbox ${face.bbox} vs ${expected}`);
    // Eyes and mouth corners are inside the reported box.
    for (const [name, [x, y]] of Object.entries(face.landmarks)) {
      assert.ok(
        x >= face.bbox[0] - 10 && x <= face.bbox[2] + 10 && y >= face.bbox[1] - 10 && y <= face.bbox[3] + 10,
        `${name} (${x}, ${y}) outside ${face.bbox}`,
      );
    }
    const e = await run("face.embed", { image: `rot/${deg}.jpg` });
    assert.equal(e.rotation, (360 - deg) % 360);
    const sim = cosine(e.embedding as number[], upright.embedding as number[]);
    assert.ok(sim >= thresholdFor("face-api").threshold, `same face, similarity ${sim}`);
  });
}

/** Faces of the face-api demo photos that TinyFaceDetector also takes for upright faces when turned upside down. */
const UPSIDE_DOWN_FOOLS_TINY = [
  { photo: "sample3.jpg", region: { left: 347, top: 129, width: 674, height: 674 } },
  { photo: "sample6.jpg", region: { left: 0, top: 246, width: 734, height: 734 } },
];

for (const { photo, region } of UPSIDE_DOWN_FOOLS_TINY) {
  test(`${photo}, a face Tiny also finds upside down: the half-turn check answers 180 for the upside-down copy, 0 upright, 270 for +90`, async () => {
    const file = path.join(path.dirname(SAMPLE1), photo);
    const upright = await sharp(file).extract(region).png().toBuffer();
    const key = (deg: number) => `half/${photo}-${deg}.jpg`;
    for (const deg of [0, 90, 180]) await ctx.artifacts.put(key(deg), await sharp(upright).rotate(deg).jpeg({ quality: 92 }).toBuffer());
    // Precondition: upside down, Tiny finds the face and trusts it below the check's bar, so
    // the search's step 1 stops at turn 0; only the check can answer 180.
    const direct = await FaceApiBackend.create();
    const fooled = await direct.detectReport(await decodeImage(await sharp(upright).rotate(180).png().toBuffer()), undefined, { landmarks: false });
    assert.equal(fooled.detector, "tiny_face_detector");
    assert.ok(fooled.faces.length === 1 && fooled.faces[0]!.confidence < HALF_TURN.trustUpright, `Tiny upside down: ${fooled.faces.map((f) => f.confidence)}`);

    for (const [deg, want] of [
      [0, 0],
      [180, 180],
      [90, 270],
    ] as const) {
      const r = await run("face.detect", { image: key(deg) });
      assert.equal(r.face_count, 1, `${photo} +${deg}`);
      assert.equal(r.rotation, want, `${photo} stored turned ${deg}`);
    }
    const a = await run("face.embed", { image: key(0) });
    const b = await run("face.embed", { image: key(180) });
    assert.equal(b.rotation, 180);
    const sim = cosine(a.embedding as number[], b.embedding as number[]);
    assert.ok(sim >= thresholdFor("face-api").threshold, `same face, similarity ${sim}`);
  });
}

test("rotation_search false: SSD still boxes the sideways face, but its landmarks and embedding are wrong (why the search exists)", async () => {
  const upright = await run("face.embed", { image: "rot/0.png" });
  const r = await run("face.detect", { image: "rot/90.jpg", rotation_search: false });
  assert.equal(r.rotation, 0);
  assert.equal(r.detector, "ssd_mobilenetv1");
  const wrong = await run("face.embed", { image: "rot/90.jpg", rotation_search: false });
  const searched = await run("face.embed", { image: "rot/90.jpg" });
  const simWrong = cosine(wrong.embedding as number[], upright.embedding as number[]);
  const simSearched = cosine(searched.embedding as number[], upright.embedding as number[]);
  assert.ok(simWrong < thresholdFor("face-api").threshold && simWrong < simSearched, `without search ${simWrong}, with ${simSearched}`);
  await assert.rejects(
    run("face.detect", { image: "rot/90.jpg", rotation_search: "yes" }),
    (e: FarmError) => e.code === "VALIDATION_ERROR" && e.details?.field === "rotation_search",
  );
});

test("a face-free image answers no face after trying every turn", async () => {
  await ctx.artifacts.put(
    "rot/none.png",
    await sharp({ create: { width: 320, height: 240, channels: 3, background: "#4a7" } })
      .png()
      .toBuffer(),
  );
  const r = await run("face.detect", { image: "rot/none.png" });
  assert.equal(r.face_count, 0);
  await assert.rejects(
    run("face.embed", { image: "rot/none.png" }),
    (e: FarmError) => e.code === "VALIDATION_ERROR" && e.details?.field === "image" && /also tried rotated/.test(e.message),
  );
});

test("8000x8000 PNG: scanned at the capped size with boxes in source pixels; the event loop keeps turning", async () => {
  // The portrait scaled to 2000 px, placed at (3000, 4000) on a grey 8000x8000 canvas.
  const big = await sharp({ create: { width: 8000, height: 8000, channels: 3, background: "#777" } })
    .composite([{ input: await sharp(portrait).resize(2000, 2000).png().toBuffer(), left: 3000, top: 4000 }])
    .png({ compressionLevel: 1 })
    .toBuffer();
  await ctx.artifacts.put("big/8000.png", big);
  let maxGap = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
  }, 20);
  try {
    const r = await run("face.detect", { image: "big/8000.png", return_landmarks: false });
    assert.deepEqual(r.image_size, [8000, 8000]);
    assert.equal(r.face_count, 1);
    const [x1, y1, x2, y2] = (r.faces as Face[])[0]!.bbox;
    // The face sits in the middle of the placed portrait (~3500-4500 x, ~4400-5500 y).
    assert.ok(x1 > 3300 && x2 < 4800 && y1 > 4100 && y2 < 5800 && x2 - x1 > 400, `bbox ${[x1, y1, x2, y2]}`);
  } finally {
    clearInterval(timer);
  }
  // Not a speed check: a main-thread detector pass would stall the loop for seconds here
  // (the tiled scan of a 4096 px frame), far beyond this bound even on a loaded machine.
  assert.ok(maxGap < 1000, `event loop stalled ${maxGap.toFixed(0)} ms`);
});

test("a tight crop (the face fills the frame) is found on the grey-bordered retry, box in the crop's pixels, same identity", async () => {
  // sample1's left face cropped to its own box and shrunk to 150x150, like held-out's face-api.js crops.
  const crop = await sharp(SAMPLE1).extract({ left: 405, top: 375, width: 200, height: 200 }).resize(150, 150).png().toBuffer();
  await ctx.artifacts.put("tight/face.png", crop);
  // Precondition: without the border, the detector finds no face in it; turned 180 degrees,
  // Tiny does (an upside-down false "upright").
  const direct = await FaceApiBackend.create();
  assert.equal((await direct.detect(await decodeImage(crop))).length, 0);
  const r = await run("face.detect", { image: "tight/face.png", rotation_search: false });
  assert.equal(r.face_count, 1);
  assert.equal(r.rotation, 0);
  // With the search on, Tiny's upside-down face is put right by the half-turn check, and the
  // border pass at the right turn finds it.
  const searched = await run("face.detect", { image: "tight/face.png" });
  assert.equal(searched.face_count, 1);
  assert.equal(searched.rotation, 0);
  // The same crop at 1200 px: the bordered search runs at half scale (BORDER_HALVE_ABOVE), boxes still in source pixels.
  await ctx.artifacts.put("tight/face-1200.png", await sharp(crop).resize(1200, 1200).png().toBuffer());
  const big = await run("face.detect", { image: "tight/face-1200.png" });
  assert.equal(big.face_count, 1);
  assert.equal(big.rotation, 0);
  const bb = (big.faces as Face[])[0]!.bbox;
  assert.ok(bb[0] >= 0 && bb[1] >= 0 && bb[2] <= 1200 && bb[3] <= 1200 && bb[0] < 480 && bb[2] > 720 && bb[1] < 480 && bb[3] > 720, `bbox ${bb}`);
  // Stored a quarter turn off, the tight crop is found by the whole search run inside the border.
  await ctx.artifacts.put("tight/face-90.png", await sharp(crop).rotate(90).png().toBuffer());
  const sideways = await run("face.detect", { image: "tight/face-90.png" });
  assert.equal(sideways.face_count, 1);
  assert.equal(sideways.rotation, 270);
  const face = (r.faces as Face[])[0]!;
  // Mapped back and clipped to the 150x150 crop, around its centre.
  assert.ok(face.bbox[0] >= 0 && face.bbox[1] >= 0 && face.bbox[2] <= 150 && face.bbox[3] <= 150, `bbox ${face.bbox}`);
  assert.ok(face.bbox[0] < 60 && face.bbox[2] > 90 && face.bbox[1] < 60 && face.bbox[3] > 90, `bbox ${face.bbox}`);
  for (const [name, [x, y]] of Object.entries(face.landmarks)) assert.ok(x > 0 && x < 150 && y > 0 && y < 150, `${name} (${x}, ${y})`);
  const upright = await run("face.embed", { image: "rot/0.png" });
  const e = await run("face.embed", { image: "tight/face.png", rotation_search: false });
  const sim = cosine(e.embedding as number[], upright.embedding as number[]);
  assert.ok(sim >= thresholdFor("face-api").threshold, `same face, similarity ${sim}`);
});
