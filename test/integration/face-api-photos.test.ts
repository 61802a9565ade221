/**
 * The face plugin's CPU default (face-api on tfjs-wasm) on real photographs shipped in
 * @vladmandic/face-api/demo: sample1.jpg (3 people), sample4.jpg (4 people), sample6.jpg (4 people).
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import path from "node:path";
import { createRequire } from "node:module";
import sharp from "sharp";
import plugin from "../../plugins/face/index.ts";
import { buildCharacter, verify } from "../../core/characters/index.ts";
import { FarmError } from "../../core/errors.ts";
import { makeTaskContext, type TestTaskContext } from "../helpers/task-context.ts";

const require = createRequire(import.meta.url);
const DEMO = path.join(path.dirname(require.resolve("@vladmandic/face-api/package.json")), "demo");
let ctx: TestTaskContext;
let n = 0;
const run = (type: string, params: Record<string, unknown>) => plugin.run({ job_id: `j${++n}`, type, params, attempt: 1 }, ctx);
type Pt = [number, number];
type Face = { bbox: number[]; confidence: number; landmarks?: { left_eye: Pt; right_eye: Pt; nose: Pt; mouth_left: Pt; mouth_right: Pt } };

/** A region around a face box (2x), as PNG bytes. */
async function regionOf(file: string, bbox: number[], grow = 2): Promise<Buffer> {
  const m = await sharp(file).metadata();
  const [x1, y1, x2, y2] = bbox as [number, number, number, number];
  const s = Math.max(x2 - x1, y2 - y1) * grow;
  const left = Math.max(0, Math.round((x1 + x2) / 2 - s / 2)),
    top = Math.max(0, Math.round((y1 + y2) / 2 - s / 2));
  return sharp(file)
    .extract({ left, top, width: Math.min(m.width! - left, Math.round(s)), height: Math.min(m.height! - top, Math.round(s)) })
    .png()
    .toBuffer();
}

beforeAll(async () => {
  ctx = makeTaskContext();
  await plugin.init!({ logger: ctx.logger, modelsDir: ctx.modelsDir, config: {}, gpus: [] });
  for (const i of [1, 4, 6]) await ctx.artifacts.putFile(`in/sample${i}.jpg`, path.join(DEMO, `sample${i}.jpg`));
  await ctx.artifacts.put(
    "in/gradient.png",
    await sharp(Buffer.from(Array.from({ length: 320 * 240 * 3 }, (_, i) => Math.floor(((i / 3) % 320) * 0.8))), {
      raw: { width: 320, height: 240, channels: 3 },
    })
      .png()
      .toBuffer(),
  );
});
afterAll(() => ctx.cleanup());

test("face.detect finds the 3 people in sample1.jpg with sensible boxes and landmarks", async () => {
  const r = await run("face.detect", { image: "in/sample1.jpg" });
  assert.equal(r.model, "face-api");
  assert.deepEqual(r.image_size, [1920, 1280]);
  assert.equal(r.face_detected, true);
  assert.equal(r.face_count, 3);
  const faces = r.faces as Face[];
  const xs = faces.map((f) => f.bbox[0]!).sort((a, b) => a - b);
  // The three faces sit left, centre and right (x ~ 414, 838, 1476 px).
  assert.ok(xs[0]! > 350 && xs[0]! < 480 && xs[1]! > 780 && xs[1]! < 900 && xs[2]! > 1400 && xs[2]! < 1550, `x1s ${xs}`);
  for (const f of faces) {
    const [x1, y1, x2, y2] = f.bbox as [number, number, number, number];
    assert.ok(x2 - x1 > 120 && x2 - x1 < 320 && y2 - y1 > 150 && y2 - y1 < 350, `box ${f.bbox}`);
    assert.ok(f.confidence > 0.9 && f.confidence <= 1);
    const pad = 0.15 * (x2 - x1);
    for (const [name, [x, y]] of Object.entries(f.landmarks!)) {
      assert.ok(x > x1 - pad && x < x2 + pad && y > y1 - pad && y < y2 + pad, `${name} outside box`);
    }
  }
  // The upright left-hand face: eyes level and above the nose, nose above the mouth corners.
  const left = faces.find((f) => f.bbox[0]! < 500)!.landmarks!;
  assert.ok(left.left_eye[0] < left.right_eye[0]);
  assert.ok(Math.abs(left.left_eye[1] - left.right_eye[1]) < 20);
  assert.ok(left.nose[1] > left.left_eye[1] && left.mouth_left[1] > left.nose[1]);
});

test("return_landmarks false omits landmarks; 4 people in sample6.jpg", async () => {
  const r = await run("face.detect", { image: "in/sample6.jpg", return_landmarks: false });
  assert.equal(r.face_count, 4);
  for (const f of r.faces as Face[]) assert.equal(f.landmarks, undefined);
});

test("EXIF orientation is honoured: a sideways-stored photo tagged orientation 6 is upright", async () => {
  const sideways = await sharp(path.join(DEMO, "sample1.jpg")).rotate(-90).withMetadata({ orientation: 6 }).jpeg().toBuffer();
  await ctx.artifacts.put("in/exif.jpg", sideways);
  const r = await run("face.detect", { image: "in/exif.jpg", return_landmarks: false });
  assert.deepEqual(r.image_size, [1920, 1280]);
  assert.equal(r.face_count, 3);
});

test("a face-free gradient: face_detected false, and face.embed is a 400 on image", async () => {
  const r = await run("face.detect", { image: "in/gradient.png" });
  assert.equal(r.face_detected, false);
  assert.equal(r.face_count, 0);
  assert.deepEqual(r.faces, []);
  await assert.rejects(
    run("face.embed", { image: "in/gradient.png" }),
    (e: FarmError) => e.code === "VALIDATION_ERROR" && e.status === 400 && e.details?.field === "image" && /no face found/.test(e.message),
  );
});

test("same person matched across augmented photos, different people rejected", async () => {
  const det = (await run("face.detect", { image: "in/sample1.jpg", return_landmarks: false })).faces as Face[];
  const leftFace = det.find((f) => f.bbox[0]! < 500)!;
  const file = path.join(DEMO, "sample1.jpg");
  const region = await regionOf(file, leftFace.bbox);
  await ctx.artifacts.put("in/a-orig.png", region);
  await ctx.artifacts.put("in/a-flip.png", await sharp(region).flop().png().toBuffer());
  await ctx.artifacts.put("in/a-bright.png", await sharp(region).modulate({ brightness: 1.25 }).rotate(6, { background: "#000" }).png().toBuffer());
  const refs = await run("face.embed_references", { images: ["in/a-orig.png", "in/a-flip.png", "in/sample1.jpg", "in/gradient.png"] });
  assert.equal(refs.model, "face-api");
  assert.equal(refs.embedding_dim, 128);
  const results = refs.results as { index: number; ok: boolean; embedding?: number[]; reason?: string }[];
  assert.deepEqual(
    results.map((x) => x.ok),
    [true, true, false, false],
  );
  assert.equal(results[2]!.reason, "3 faces of similar size: ambiguous");
  assert.equal(results[3]!.reason, "no face found");
  const character = buildCharacter(
    "Left",
    "",
    "face-api",
    results.filter((x) => x.ok).map((x) => ({ embedding: x.embedding!, source: String(x.index) })),
  );
  assert.ok(character.consistency.min > 0.9);

  const probe = await run("face.embed", { image: "in/a-bright.png" });
  assert.equal(probe.embedding_dim, 128);
  const same = verify(character, probe.embedding as number[], probe.model as string);
  assert.equal(same.match, true, `same-person similarity ${same.similarity}`);

  // Everyone else in sample1/4/6 is rejected.
  let rejected = 0;
  for (const [image, idx] of [
    ["in/sample1.jpg", 1],
    ["in/sample1.jpg", 2],
    ["in/sample4.jpg", 0],
    ["in/sample4.jpg", 1],
    ["in/sample6.jpg", 0],
    ["in/sample6.jpg", 3],
  ] as const) {
    const other = await run("face.embed", { image, face_index: idx });
    if ((other.bbox as number[])[0] === leftFace.bbox[0]) continue;
    const v = verify(character, other.embedding as number[], "face-api");
    assert.equal(v.match, false, `${image}#${idx} similarity ${v.similarity}`);
    rejected++;
  }
  assert.ok(rejected >= 5);
});

test("bad params are 400s naming the field", async () => {
  await assert.rejects(run("face.detect", {}), (e: FarmError) => e.details?.field === "image");
  await assert.rejects(run("face.detect", { image: "in/missing.jpg" }), (e: FarmError) => e.code === "VALIDATION_ERROR" && e.details?.field === "image");
  await assert.rejects(run("face.detect", { image: "in/sample1.jpg", model: "nope" }), (e: FarmError) => e.details?.field === "model");
  await assert.rejects(run("face.embed", { image: "in/sample1.jpg", face_index: 9 }), (e: FarmError) => e.details?.field === "face_index");
  await assert.rejects(run("face.embed_references", { images: [] }), (e: FarmError) => e.details?.field === "images");
  await ctx.artifacts.put("in/junk.jpg", Buffer.from("not an image"));
  await assert.rejects(run("face.detect", { image: "in/junk.jpg" }), (e: FarmError) => e.code === "VALIDATION_ERROR" && e.details?.field === "image");
});
