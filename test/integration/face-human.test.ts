/**
 * Model "human-faceres" (@vladmandic/human blazeface + facemesh + faceres, 1024-d) through the
 * plugin, in its worker thread, on real photos from @vladmandic/face-api/demo: detection
 * with the five landmarks, embeddings that match the same face across variants and separate
 * different people at the calibrated threshold, and the rotation search (with its half-turn check).
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import path from "node:path";
import { createRequire } from "node:module";
import sharp from "sharp";
import plugin from "../../plugins/face/index.ts";
import { buildCharacter, cosine, verify, thresholdFor, DEFAULT_CHARACTER_MODEL, FACE_QUALITY_GATE } from "../../core/characters/index.ts";
import { makeTaskContext, type TestTaskContext } from "../helpers/task-context.ts";
import { HumanBackend } from "../../plugins/face/human/backend.ts";
import { decodeImage } from "../../plugins/face/image-decode.ts";
import { landmarksUpright, largestFace } from "../../plugins/face/geometry.ts";

const require = createRequire(import.meta.url);
const DEMO = path.join(path.dirname(require.resolve("@vladmandic/face-api/package.json")), "demo");
let ctx: TestTaskContext;
let n = 0;
const run = (type: string, params: Record<string, unknown>) =>
  plugin.run({ job_id: `h${++n}`, type, params: { model: "human-faceres", ...params }, attempt: 1 }, ctx);
type Face = { bbox: [number, number, number, number]; landmarks: Record<string, [number, number]> };

beforeAll(async () => {
  ctx = makeTaskContext();
  await plugin.init!({ logger: ctx.logger, modelsDir: ctx.modelsDir, config: {}, gpus: [] });
  await ctx.artifacts.putFile("h/sample1.jpg", path.join(DEMO, "sample1.jpg"));
  const portrait = await sharp(path.join(DEMO, "sample1.jpg")).extract({ left: 205, top: 175, width: 600, height: 600 }).png().toBuffer();
  await ctx.artifacts.put("h/a.png", portrait);
  await ctx.artifacts.put("h/a-dark.jpg", await sharp(portrait).modulate({ brightness: 0.6 }).resize(300).jpeg({ quality: 40 }).toBuffer());
  await ctx.artifacts.put("h/a-turned.jpg", await sharp(portrait).rotate(90).jpeg().toBuffer());
  await ctx.artifacts.put("h/a-night.png", await sharp(portrait).modulate({ brightness: 0.18 }).png().toBuffer());
  for (const deg of [90, 180, 270]) await ctx.artifacts.put(`h/a-turned${deg}.jpg`, await sharp(portrait).rotate(deg).jpeg().toBuffer());
  const other = await sharp(path.join(DEMO, "sample1.jpg")).extract({ left: 1300, top: 250, width: 600, height: 600 }).png().toBuffer();
  await ctx.artifacts.put("h/b.png", other);
});
afterAll(() => ctx.cleanup());

test("new characters default to human-faceres, which has a calibrated threshold", () => {
  assert.equal(DEFAULT_CHARACTER_MODEL, "human-faceres");
  assert.equal(thresholdFor("human-faceres").source, "calibrated");
});

test("detects the 3 people of sample1.jpg with upright landmarks", async () => {
  const r = await run("face.detect", { image: "h/sample1.jpg" });
  assert.equal(r.model, "human-faceres");
  assert.equal(r.detector, "blazeface");
  assert.equal(r.face_count, 3);
  for (const f of r.faces as Face[]) {
    const l = f.landmarks;
    // The right-hand person tilts her head ~45 degrees, so only orderings that survive a tilt:
    // eyes left to right, and the mouth farther from the eyes' midpoint than the nose.
    const mid = [(l.left_eye![0] + l.right_eye![0]) / 2, (l.left_eye![1] + l.right_eye![1]) / 2] as const;
    const mouth = [(l.mouth_left![0] + l.mouth_right![0]) / 2, (l.mouth_left![1] + l.mouth_right![1]) / 2] as const;
    assert.ok(l.left_eye![0] < l.right_eye![0], JSON.stringify(l));
    assert.ok(Math.hypot(mouth[0] - mid[0], mouth[1] - mid[1]) > Math.hypot(l.nose![0] - mid[0], l.nose![1] - mid[1]), JSON.stringify(l));
    assert.ok(l.nose![0] > f.bbox[0] && l.nose![0] < f.bbox[2] && l.nose![1] > f.bbox[1] && l.nose![1] < f.bbox[3]);
  }
});

test("1024-d embeddings: the same face darker, smaller, recompressed and turned matches; another person does not", async () => {
  const a = await run("face.embed", { image: "h/a.png" });
  assert.equal(a.embedding_dim, 1024);
  const norm = Math.hypot(...(a.embedding as number[]));
  assert.ok(Math.abs(norm - 1) < 1e-4);
  const refs = await run("face.embed_references", { images: ["h/a.png", "h/a-dark.jpg"] });
  const ok = (refs.results as { ok: boolean; embedding?: number[]; index: number }[]).filter((x) => x.ok);
  assert.equal(ok.length, 2);
  const character = buildCharacter(
    "A",
    "",
    "human-faceres",
    ok.map((x) => ({ embedding: x.embedding!, source: String(x.index) })),
  );
  const turned = await run("face.embed", { image: "h/a-turned.jpg" });
  const same = verify(character, turned.embedding as number[], "human-faceres");
  assert.equal(same.match, true, `turned photo similarity ${same.similarity} (rotation ${turned.rotation})`);
  const b = await run("face.embed", { image: "h/b.png" });
  const diff = verify(character, b.embedding as number[], "human-faceres");
  assert.equal(diff.match, false, `other person similarity ${diff.similarity}`);
  assert.ok(cosine(a.embedding as number[], b.embedding as number[]) < thresholdFor("human-faceres").threshold);
});

test("a photo stored turned (90, 180, 270 degrees): blazeface finds the sideways face, but the search answers the turn whose face is upright by its landmarks", async () => {
  const upright = await run("face.embed", { image: "h/a.png" });
  assert.equal(upright.rotation, 0);
  for (const deg of [90, 180, 270]) {
    const r = await run("face.detect", { image: `h/a-turned${deg}.jpg` });
    // Stored turned `deg` clockwise, so turning it (360 - deg) clockwise brings it upright.
    assert.equal(r.rotation, (360 - deg) % 360, `turned ${deg}`);
    const e = await run("face.embed", { image: `h/a-turned${deg}.jpg` });
    assert.equal(e.rotation, (360 - deg) % 360);
    assert.ok(cosine(upright.embedding as number[], e.embedding as number[]) >= thresholdFor("human-faceres").threshold + 0.1, `turned ${deg}`);
  }
}, 120_000);

test("faces human's mesh draws upright when upside down (two demo faces): the half-turn check answers 180, and 0 for the upright copy", async () => {
  const cases = [
    { photo: "sample2.jpg", region: { left: 697, top: 59, width: 556, height: 556 } },
    { photo: "sample6.jpg", region: { left: 0, top: 246, width: 734, height: 734 } },
  ];
  const direct = await HumanBackend.create();
  for (const { photo, region } of cases) {
    const upright = await sharp(path.join(DEMO, photo)).extract(region).png().toBuffer();
    const turned = await sharp(upright).rotate(180).png().toBuffer();
    // Precondition: upside down, the mesh's largest face looks upright at a confident score,
    // which the landmark search (step 4) takes as turn 0; only the check can answer 180.
    const raw = await direct.detect(await decodeImage(turned));
    const lead = raw[largestFace(raw)]!;
    assert.ok(landmarksUpright(lead.landmarks) && lead.confidence >= 0.9, `${photo}: mesh upside down ${lead.confidence}`);
    await ctx.artifacts.put(`h/half-${photo}-0.png`, upright);
    await ctx.artifacts.put(`h/half-${photo}-180.png`, turned);
    assert.equal((await run("face.detect", { image: `h/half-${photo}-0.png` })).rotation, 0, `${photo} upright`);
    assert.equal((await run("face.detect", { image: `h/half-${photo}-180.png` })).rotation, 180, `${photo} upside down`);
  }
}, 120_000);

test("face.embed reports the face's quality; a face too dark to compare is answered not verifiable (quality gate)", async () => {
  const a = await run("face.embed", { image: "h/a.png" });
  const q = a.quality as { brightness: number; sharpness: number };
  assert.ok(q.brightness > 60 && q.brightness < 255, `brightness ${q.brightness}`);
  assert.ok(q.sharpness > 0);
  const night = await run("face.embed", { image: "h/a-night.png" });
  const nq = night.quality as { brightness: number };
  assert.ok(nq.brightness < FACE_QUALITY_GATE.min_brightness, `night brightness ${nq.brightness}`);
  const character = buildCharacter("A", "", "human-faceres", [{ embedding: a.embedding as number[], source: "a" }]);
  const v = verify(character, night.embedding as number[], "human-faceres", night.quality);
  assert.equal(v.verifiable, false);
  assert.equal(v.match, false);
  const refs = await run("face.embed_references", { images: ["h/a.png", "h/a-night.png"] });
  const rs = refs.results as { ok: boolean; quality?: { brightness: number } }[];
  assert.ok(rs.every((r) => r.ok && typeof r.quality?.brightness === "number"));
}, 60_000);
