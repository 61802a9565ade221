/** Face and character identity through the front door, on real photos shipped in the face-api package. */
import { test } from "vitest";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { fetchFacepluginWeights } from "../../plugins/face/faceplugin/fetch-weights.ts";
import { startEmbeddedFarm } from "../helpers/embedded-farm.ts";
import { http } from "../helpers/http.ts";

const SAMPLE = path.resolve("node_modules/@vladmandic/face-api/demo/sample1.jpg");
const b64 = (b: Buffer) => `data:image/jpeg;base64,${b.toString("base64")}`;

async function cropAround(box: number[], opts: { flip?: boolean; brightness?: number } = {}): Promise<Buffer> {
  const meta = await sharp(SAMPLE).metadata();
  const [x1, y1, x2, y2] = box as [number, number, number, number];
  const w = x2 - x1,
    h = y2 - y1,
    cx = (x1 + x2) / 2,
    cy = (y1 + y2) / 2,
    side = Math.max(w, h) * 2;
  const left = Math.max(0, Math.round(cx - side / 2)),
    top = Math.max(0, Math.round(cy - side / 2));
  let img = sharp(SAMPLE).extract({ left, top, width: Math.min(Math.round(side), meta.width! - left), height: Math.min(Math.round(side), meta.height! - top) });
  if (opts.flip) img = img.flop();
  if (opts.brightness) img = img.modulate({ brightness: opts.brightness });
  return img.jpeg().toBuffer();
}

test("detect, register a character from reference crops, verify the same and a different person", async () => {
  const farm = await startEmbeddedFarm({ agent: { plugins: ["face"] } });
  try {
    const photo = await sharp(SAMPLE).jpeg().toBuffer();
    const det = await http(farm.url, "POST", "/api/v1/face/detect", { image_base64: photo.toString("base64"), return_landmarks: true });
    assert.equal(det.status, 200, JSON.stringify(det.body));
    assert.equal(det.body.face_detected, true);
    const faces = det.body.faces as { bbox: number[]; landmarks: Record<string, number[]> }[];
    assert.ok(faces.length >= 3, `faces: ${faces.length}`);
    assert.deepEqual(Object.keys(faces[0]!.landmarks).sort(), ["left_eye", "mouth_left", "mouth_right", "nose", "right_eye"]);
    assert.equal(det.body.model, "face-api");

    // A group photo is not a usable reference: which face would be the character?
    const group = await http(farm.url, "POST", "/api/v1/character/register", { name: "Group", reference_images: [b64(photo)] });
    assert.equal(group.status, 400);
    assert.equal(group.body.code, "VALIDATION_ERROR");
    assert.match(String(group.body.message), /ambiguous/);

    const [a, b] = [faces[0]!.bbox, faces[1]!.bbox];
    const reg = await http(farm.url, "POST", "/api/v1/character/register", {
      name: "Singer",
      description: "lead",
      reference_images: [b64(await cropAround(a)), b64(await cropAround(a, { brightness: 1.2 }))],
    });
    assert.equal(reg.status, 200, JSON.stringify(reg.body));
    assert.equal(reg.body.embedding_count, 2);
    // New characters get the best measured model on offer: the fusion needs faceplugin-fr's file, absent here.
    assert.equal(reg.body.model, "human-faceres");
    assert.equal(reg.body.embedding_dim, 1024);
    const id = String(reg.body.character_id);

    const same = await http(farm.url, "POST", "/api/v1/character/verify", { character_id: id, test_image: b64(await cropAround(a, { flip: true })) });
    assert.equal(same.status, 200, JSON.stringify(same.body));
    assert.equal(same.body.match, true);
    assert.equal(same.body.model, "human-faceres");
    assert.ok(["high", "medium", "low"].includes(String(same.body.confidence)));
    assert.equal(same.body.rotation, 0);
    const other = await http(farm.url, "POST", "/api/v1/character/verify", { character_id: id, test_image: b64(await cropAround(b)) });
    assert.equal(other.body.match, false);
    assert.ok(Number(other.body.similarity) < Number(same.body.similarity));
    assert.equal(other.body.threshold, same.body.threshold);

    // A character registered with face-api keeps it: its verify runs face-api at face-api's threshold.
    const old = await http(farm.url, "POST", "/api/v1/character/register", { name: "Old", model: "face-api", reference_images: [b64(await cropAround(a))] });
    assert.equal(old.status, 200, JSON.stringify(old.body));
    assert.equal(old.body.model, "face-api");
    const oldV = await http(farm.url, "POST", "/api/v1/character/verify", {
      character_id: old.body.character_id,
      test_image: b64(await cropAround(a, { flip: true })),
    });
    assert.equal(oldV.body.model, "face-api");
    assert.equal(oldV.body.match, true);
    assert.notEqual(oldV.body.threshold, same.body.threshold);
    // Moving it to the new default is explicit: re-embed its stored reference photos; the id stays.
    const moved = await http(farm.url, "POST", `/api/v1/character/${String(old.body.character_id)}/reembed`, {});
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    assert.equal(moved.body.character_id, old.body.character_id);
    assert.equal(moved.body.model, "human-faceres");
    assert.equal(moved.body.previous_model, "face-api");
    assert.equal(moved.body.embedding_dim, 1024);
    const movedV = await http(farm.url, "POST", "/api/v1/character/verify", {
      character_id: old.body.character_id,
      test_image: b64(await cropAround(a, { flip: true })),
    });
    assert.equal(movedV.body.model, "human-faceres");
    assert.equal(movedV.body.match, true);
    const badModel = await http(farm.url, "POST", `/api/v1/character/${String(old.body.character_id)}/reembed`, { model: "nope" });
    assert.equal(badModel.status, 400);
    assert.equal(badModel.body.code, "VALIDATION_ERROR");
    assert.equal((await http(farm.url, "DELETE", `/api/v1/character/${String(old.body.character_id)}`)).status, 200);

    const list = await http(farm.url, "GET", "/api/v1/character/list");
    assert.deepEqual(
      (list.body.characters as { character_id: string }[]).map((c) => c.character_id),
      [id],
    );
    const blank = await sharp({ create: { width: 200, height: 200, channels: 3, background: "#808080" } })
      .png()
      .toBuffer();
    const noFace = await http(farm.url, "POST", "/api/v1/face/embed", { image_base64: blank.toString("base64") });
    assert.equal(noFace.status, 400);
    assert.equal(noFace.body.code, "VALIDATION_ERROR");
    assert.equal((await http(farm.url, "DELETE", `/api/v1/character/${id}`)).status, 200);
    assert.equal((await http(farm.url, "GET", `/api/v1/character/${id}`)).status, 404);
  } finally {
    await farm.destroy();
  }
});

test("a character registered without a model gets the fusion where a node offers it (faceplugin-fr's file placed), and it matches", async () => {
  const modelsDir = fs.mkdtempSync(path.join(os.tmpdir(), "nb-face-models-"));
  await fetchFacepluginWeights(modelsDir);
  const farm = await startEmbeddedFarm({ agent: { plugins: ["face"] }, paths: { models: modelsDir } });
  try {
    const photo = await sharp(SAMPLE).jpeg().toBuffer();
    const det = await http(farm.url, "POST", "/api/v1/face/detect", { image_base64: photo.toString("base64") });
    const [a, b] = (det.body.faces as { bbox: number[] }[]).map((f) => f.bbox);
    const reg = await http(farm.url, "POST", "/api/v1/character/register", { name: "Singer", reference_images: [b64(await cropAround(a!))] });
    assert.equal(reg.status, 200, JSON.stringify(reg.body));
    assert.equal(reg.body.model, "fusion-fr-faceres");
    assert.equal(reg.body.embedding_dim, 1536);
    const id = String(reg.body.character_id);
    const same = await http(farm.url, "POST", "/api/v1/character/verify", { character_id: id, test_image: b64(await cropAround(a!, { flip: true })) });
    assert.equal(same.status, 200, JSON.stringify(same.body));
    assert.equal(same.body.model, "fusion-fr-faceres");
    assert.equal(same.body.match, true);
    assert.equal(same.body.verifiable, true);
    const other = await http(farm.url, "POST", "/api/v1/character/verify", { character_id: id, test_image: b64(await cropAround(b!)) });
    assert.equal(other.body.match, false);
    // Quality gate: the same face far too dark is "cannot verify", not a similarity to trust; as the only reference it is refused.
    const night = b64(await cropAround(a!, { brightness: 0.15 }));
    const dark = await http(farm.url, "POST", "/api/v1/character/verify", { character_id: id, test_image: night });
    assert.equal(dark.status, 200, JSON.stringify(dark.body));
    assert.equal(dark.body.verifiable, false);
    assert.equal(dark.body.match, false);
    assert.equal((dark.body.quality_issues as { code: string }[])[0]?.code, "too_dark");
    assert.equal(typeof dark.body.similarity, "number");
    const darkReg = await http(farm.url, "POST", "/api/v1/character/register", { name: "Night", reference_images: [night] });
    assert.equal(darkReg.status, 400, JSON.stringify(darkReg.body));
    assert.match(JSON.stringify(darkReg.body), /reference_images/);
    assert.match(JSON.stringify(darkReg.body), /too dark/);
    // Naming a model still wins over the default.
    const named = await http(farm.url, "POST", "/api/v1/character/register", {
      name: "Named",
      model: "human-faceres",
      reference_images: [b64(await cropAround(a!))],
    });
    assert.equal(named.body.model, "human-faceres");
  } finally {
    await farm.destroy();
    fs.rmSync(modelsDir, { recursive: true, force: true });
  }
});
