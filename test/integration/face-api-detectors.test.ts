/**
 * face-api's two detector modes through the plugin: "fast" (TinyFaceDetector, SSD fallback,
 * the default) and "accurate" (SSD MobileNet v1 always). Results name the net that ran.
 * Photos: @vladmandic/face-api/demo/sample1.jpg and a portrait cut from it.
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import path from "node:path";
import { createRequire } from "node:module";
import sharp from "sharp";
import plugin from "../../plugins/face/index.ts";
import { iou } from "../../plugins/face/geometry.ts";
import { cosine } from "../../core/characters/logic.ts";
import { FarmError } from "../../core/errors.ts";
import { makeTaskContext, type TestTaskContext } from "../helpers/task-context.ts";

const require = createRequire(import.meta.url);
const SAMPLE1 = path.join(path.dirname(require.resolve("@vladmandic/face-api/package.json")), "demo", "sample1.jpg");
let ctx: TestTaskContext;
let n = 0;
const run = (type: string, params: Record<string, unknown>) => plugin.run({ job_id: `d${++n}`, type, params, attempt: 1 }, ctx);
type Box = [number, number, number, number];

beforeAll(async () => {
  ctx = makeTaskContext();
  await plugin.init!({ logger: ctx.logger, modelsDir: ctx.modelsDir, config: {}, gpus: [] });
  await ctx.artifacts.putFile("in/sample1.jpg", SAMPLE1);
  // A 1000x1000 portrait: the left-hand person of sample1 (face box ~[414,355,591,595]), ~2.5x the box.
  const portrait = await sharp(SAMPLE1).extract({ left: 202, top: 175, width: 600, height: 600 }).resize(1000, 1000).png().toBuffer();
  await ctx.artifacts.put("in/portrait.png", portrait);
  await ctx.artifacts.put(
    "in/grey.png",
    await sharp({ create: { width: 400, height: 300, channels: 3, background: "#777" } })
      .png()
      .toBuffer(),
  );
});
afterAll(() => ctx.cleanup());

test("a portrait takes the fast path (TinyFaceDetector) and agrees with SSD on box and identity", async () => {
  const fast = await run("face.detect", { image: "in/portrait.png" });
  assert.equal(fast.model, "face-api");
  assert.equal(fast.detector, "tiny_face_detector");
  assert.equal(fast.face_count, 1);
  const acc = await run("face.detect", { image: "in/portrait.png", detector: "accurate" });
  assert.equal(acc.detector, "ssd_mobilenetv1");
  assert.equal(acc.face_count, 1);
  const a = (fast.faces as { bbox: Box }[])[0]!.bbox;
  const b = (acc.faces as { bbox: Box }[])[0]!.bbox;
  // Tiny's boxes are converted to SSD's convention (tight face box), so the two overlap well.
  assert.ok(iou(a, b) > 0.6, `IoU ${iou(a, b)} fast ${a} accurate ${b}`);
  // The face is ~1/3 of the frame, roughly centred.
  assert.ok(a[2] - a[0] > 200 && a[2] - a[0] < 450 && (a[0] + a[2]) / 2 > 350 && (a[0] + a[2]) / 2 < 650, `box ${a}`);

  const ef = await run("face.embed", { image: "in/portrait.png" });
  const ea = await run("face.embed", { image: "in/portrait.png", detector: "accurate" });
  assert.equal(ef.detector, "tiny_face_detector");
  assert.equal(ea.detector, "ssd_mobilenetv1");
  // Same identity either way: far above the 0.94 match threshold.
  assert.ok(cosine(ef.embedding as number[], ea.embedding as number[]) > 0.97);
});

test("small faces in a group photo fall back to SSD, so fast finds what accurate finds", async () => {
  const fast = await run("face.detect", { image: "in/sample1.jpg", return_landmarks: false });
  const acc = await run("face.detect", { image: "in/sample1.jpg", return_landmarks: false, detector: "accurate" });
  assert.equal(fast.detector, "ssd_mobilenetv1");
  assert.equal(fast.face_count, 3);
  assert.deepEqual(fast.faces, acc.faces);
});

test("no face: fast falls back to SSD before saying so; references report their detector", async () => {
  const r = await run("face.detect", { image: "in/grey.png" });
  assert.equal(r.face_count, 0);
  assert.equal(r.detector, "ssd_mobilenetv1");
  const refs = await run("face.embed_references", { images: ["in/portrait.png", "in/grey.png"] });
  const results = refs.results as { ok: boolean; detector?: string; reason?: string }[];
  assert.deepEqual(
    results.map((x) => [x.ok, x.detector]),
    [
      [true, "tiny_face_detector"],
      [false, "ssd_mobilenetv1"],
    ],
  );
  assert.equal(results[1]!.reason, "no face found");
});

test("an unknown detector mode is a 400 naming detector", async () => {
  for (const type of ["face.detect", "face.embed", "face.embed_references"]) {
    const params = type === "face.embed_references" ? { images: ["in/portrait.png"], detector: "turbo" } : { image: "in/portrait.png", detector: 3 };
    await assert.rejects(run(type, params), (e: FarmError) => e.code === "VALIDATION_ERROR" && e.details?.field === "detector");
  }
});
