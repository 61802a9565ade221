/**
 * Characters belong to the API key that registered them (issue 18 item 3, the character
 * half): another key neither lists, reads, verifies against, generates with, adds to nor
 * deletes it (each answered as if it did not exist); an admin may. Real face models, real
 * photo shipped in the face-api package, auth on.
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import path from "node:path";
import sharp from "sharp";
import { as, startTenancyFarm, TENANT_KEYS as KEYS, type TenancyFarm } from "../helpers/tenancy-farm.ts";
import { http } from "../helpers/http.ts";

const SAMPLE = path.resolve("node_modules/@vladmandic/face-api/demo/sample1.jpg");

let farm: TenancyFarm;
let face: string;

beforeAll(async () => {
  farm = await startTenancyFarm({ plugins: ["face"], tmpPrefix: "nb-own-" });
  const det = await http(farm.url, "POST", "/api/v1/face/detect", { image_base64: (await sharp(SAMPLE).jpeg().toBuffer()).toString("base64") }, as(KEYS.alice));
  assert.equal(det.status, 200, JSON.stringify(det.body));
  const [x1, y1, x2, y2] = (det.body.faces as { bbox: number[] }[])[0]!.bbox as [number, number, number, number];
  const meta = await sharp(SAMPLE).metadata();
  const side = Math.max(x2 - x1, y2 - y1) * 2;
  const left = Math.max(0, Math.round((x1 + x2) / 2 - side / 2)),
    top = Math.max(0, Math.round((y1 + y2) / 2 - side / 2));
  const crop = await sharp(SAMPLE)
    .extract({ left, top, width: Math.min(Math.round(side), meta.width! - left), height: Math.min(Math.round(side), meta.height! - top) })
    .jpeg()
    .toBuffer();
  face = `data:image/jpeg;base64,${crop.toString("base64")}`;
});
afterAll(async () => {
  await farm?.stop();
});

test("another key cannot see, use, change or delete a character; its owner and an admin can", async () => {
  const reg = await http(farm.url, "POST", "/api/v1/character/register", { name: "Alice's singer", reference_images: [face] }, as(KEYS.alice));
  assert.equal(reg.status, 200, JSON.stringify(reg.body));
  const id = String(reg.body.character_id);

  const listed = async (k: string) =>
    ((await http(farm.url, "GET", "/api/v1/character/list", undefined, as(k))).body.characters as { character_id: string }[]).map((c) => c.character_id);
  assert.ok((await listed(KEYS.alice)).includes(id));
  assert.ok(!(await listed(KEYS.bob)).includes(id), "bob's list shows alice's character");
  assert.ok((await listed(KEYS.admin)).includes(id));

  const notFound = (r: { status: number; body: Record<string, unknown> }) => {
    assert.equal(r.status, 404, JSON.stringify(r.body));
    assert.equal(r.body.code, "NOT_FOUND");
    assert.equal(JSON.stringify(r.body).includes("average_embedding"), false);
  };
  notFound(await http(farm.url, "GET", `/api/v1/character/${id}`, undefined, as(KEYS.bob)));
  notFound(await http(farm.url, "POST", "/api/v1/character/verify", { character_id: id, test_image: face }, as(KEYS.bob)));
  notFound(await http(farm.url, "POST", `/api/v1/character/${id}/references`, { reference_images: [face] }, as(KEYS.bob)));
  notFound(await http(farm.url, "POST", "/api/v1/generate/image", { prompt: "a portrait", character_id: id }, as(KEYS.bob)));
  notFound(await http(farm.url, "DELETE", `/api/v1/character/${id}`, undefined, as(KEYS.bob)));

  const mine = await http(farm.url, "GET", `/api/v1/character/${id}`, undefined, as(KEYS.alice));
  assert.equal(mine.status, 200);
  const verify = await http(farm.url, "POST", "/api/v1/character/verify", { character_id: id, test_image: face }, as(KEYS.alice));
  assert.equal(verify.status, 200, JSON.stringify(verify.body));
  assert.equal(verify.body.match, true);
  const byAdmin = await http(farm.url, "DELETE", `/api/v1/character/${id}`, undefined, as(KEYS.admin));
  assert.equal(byAdmin.status, 200, JSON.stringify(byAdmin.body));
  assert.ok(!(await listed(KEYS.alice)).includes(id));
});
