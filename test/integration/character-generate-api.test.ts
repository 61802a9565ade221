/**
 * character_id through the front door, end to end on an embedded farm: real face models
 * (the face plugin, human-faceres), a character registered from real photos (shipped in
 * the face-api package), generation by the remote-image plugin against the provider
 * stand-in. The operator config maps a face-reference variant id ("<model>:face_ref")
 * for the stand-in, the same key the ComfyUI plugin uses for its IP-Adapter FaceID
 * template. The stand-in's first image shows another person, its second the character:
 * the farm must check both faces, regenerate once with a new seed and report the match.
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import path from "node:path";
import sharp from "sharp";
import { startEmbeddedFarm, type TestFarm } from "../helpers/embedded-farm.ts";
import { http, waitJob } from "../helpers/http.ts";
import { startProviderStandin, type ProviderStandin } from "../fixtures/remote-image/provider-standin.ts";

const SAMPLE = path.resolve("node_modules/@vladmandic/face-api/demo/sample1.jpg");
const MODEL = "portrait-gen";
let farm: TestFarm;
let sp: ProviderStandin;

async function crop(box: number[], opts: { flip?: boolean; brightness?: number } = {}): Promise<Buffer> {
  const meta = await sharp(SAMPLE).metadata();
  const [x1, y1, x2, y2] = box as [number, number, number, number];
  const side = Math.max(x2 - x1, y2 - y1) * 2,
    cx = (x1 + x2) / 2,
    cy = (y1 + y2) / 2;
  const left = Math.max(0, Math.round(cx - side / 2)),
    top = Math.max(0, Math.round(cy - side / 2));
  let img = sharp(SAMPLE).extract({ left, top, width: Math.min(Math.round(side), meta.width! - left), height: Math.min(Math.round(side), meta.height! - top) });
  if (opts.flip) img = img.flop();
  if (opts.brightness) img = img.modulate({ brightness: opts.brightness });
  return img.png().toBuffer();
}
const dataUrl = (b: Buffer) => `data:image/png;base64,${b.toString("base64")}`;

beforeAll(async () => {
  sp = await startProviderStandin();
  farm = await startEmbeddedFarm({
    agent: { plugins: ["face", "remote-image"], max_concurrent_jobs: 2 },
    api: { rate_limits: { enabled: false } },
    plugins: {
      "remote-image": {
        retry_base_ms: 50,
        providers: {
          standin: {
            protocol: "openrouter-chat",
            base_url: `${sp.url}/api/v1`,
            api_key: sp.key,
            models: { [MODEL]: "gemini-image", [`${MODEL}:face_ref`]: "gemini-image" },
          },
        },
      },
    },
  });
});

afterAll(async () => {
  await farm?.destroy();
  await sp?.close();
});

test("unknown character -> 404 naming character_id; no face-reference node -> 503 naming the variant", async () => {
  const unknown = await http(farm.url, "POST", "/api/v1/generate/image", { prompt: "x", model: MODEL, character_id: "00000000-0000-4000-8000-000000000000" });
  assert.equal(unknown.status, 404, JSON.stringify(unknown.body));
  assert.equal(unknown.body.code, "NOT_FOUND");
  assert.equal((unknown.body.details as { field: string }).field, "character_id");
  const bad = await http(farm.url, "POST", "/api/v1/generate/batch", {
    prompts: ["a"],
    shared_settings: { model: MODEL, character_id: "00000000-0000-4000-8000-000000000000" },
  });
  assert.equal(bad.status, 404, JSON.stringify(bad.body));
});

test("character_id: the face of every output is checked; a miss is regenerated with a new seed; metadata.character reports it", async () => {
  const photo = await sharp(SAMPLE).jpeg().toBuffer();
  const det = await http(farm.url, "POST", "/api/v1/face/detect", { image_base64: photo.toString("base64") });
  assert.equal(det.status, 200, JSON.stringify(det.body));
  const [a, b] = (det.body.faces as { bbox: number[] }[]).map((f) => f.bbox);
  const reg = await http(farm.url, "POST", "/api/v1/character/register", {
    name: "Singer",
    reference_images: [dataUrl(await crop(a!)), dataUrl(await crop(a!, { brightness: 1.2 }))],
  });
  assert.equal(reg.status, 200, JSON.stringify(reg.body));
  const id = String(reg.body.character_id);

  // No variant for sdxl-base-1.0 on this farm: 503 naming what is missing.
  const none = await http(farm.url, "POST", "/api/v1/generate/image", { prompt: "x", character_id: id });
  assert.equal(none.status, 503, JSON.stringify(none.body));
  assert.match(String(none.body.message), /no live node offers 'sdxl-base-1.0:face_ref'/);

  const other = await crop(b!);
  const same = await crop(a!, { flip: true });
  sp.image = async (n) => (n === 1 ? other : same);
  sp.requests = [];
  const r = await http(farm.url, "POST", "/api/v1/generate/image?async=true", {
    prompt: "the singer on stage",
    model: MODEL,
    character_id: id,
    width: 512,
    height: 512,
  });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  const done = await waitJob(farm.url, String(r.body.job_id), 60_000).catch(async (e: unknown) => {
    for (const step of ["g1", "e1", "g2", "e2"])
      console.error(`step ${step}:`, JSON.stringify((await http(farm.url, "GET", `/api/v1/jobs/${String(r.body.job_id)}-${step}`)).body).slice(0, 600));
    throw e;
  });
  assert.equal(done.status, "completed", JSON.stringify(done));
  assert.equal(done.type, "image.character");
  const result = done.result as {
    image_url: string;
    metadata: { seed: unknown; character: { similarity: number; threshold: number; attempts: number; matched: boolean; tried: { similarity: number }[] } };
  };
  const c = result.metadata.character;
  assert.equal(c.matched, true);
  assert.equal(c.attempts, 2);
  assert.ok(c.tried[0]!.similarity < c.threshold && c.similarity >= c.threshold, JSON.stringify(c));
  // The provider got the character's photos with the prompt, and a new seed the second time.
  assert.equal(sp.requests.length, 2);
  const parts = (sp.requests[0]!.body.messages as { content: { type: string }[] }[])[0]!.content;
  assert.equal(parts.filter((p) => p.type === "image_url").length, 2);
  assert.notEqual(sp.requests[0]!.body.seed, sp.requests[1]!.body.seed);
  // The image served is the second (matching) one.
  const img = await fetch(`${farm.url}${result.image_url}`);
  assert.equal(img.status, 200);
  const served = await sharp(Buffer.from(await img.arrayBuffer())).metadata();
  assert.equal(served.width, (await sharp(same).metadata()).width);
});
