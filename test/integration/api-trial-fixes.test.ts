/**
 * Answers a new user met in a first trial of the API (session 7) that named the wrong thing:
 * a body with a `__proto__` key was called "not valid JSON" (it is valid JSON; the key is
 * refused), and a spec route's 503 about the model named `params.model`, a field the caller
 * never sent (they sent `model`, or `shared_settings.model` in a batch).
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import { startEmbeddedFarm, type TestFarm } from "../helpers/embedded-farm.ts";
import { http, type HttpResult } from "../helpers/http.ts";
import { assertEnvelope } from "./api-fixtures.ts";

let farm: TestFarm;
beforeAll(async () => {
  // comfyui without an instance: it offers image.generate but none of its models.
  farm = await startEmbeddedFarm({ agent: { plugins: ["diag", "comfyui"] }, api: { rate_limits: { enabled: false } } });
});
afterAll(async () => {
  await farm?.destroy();
});

/** POST a raw JSON text (JSON.stringify would turn a `__proto__` key into a prototype). */
async function postRaw(path: string, text: string): Promise<HttpResult> {
  const res = await fetch(farm.url + path, { method: "POST", headers: { "content-type": "application/json" }, body: text });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

test("a __proto__ or constructor.prototype key is refused as such, not as invalid JSON", async () => {
  const proto = assertEnvelope(await postRaw("/api/v1/jobs", '{"type":"diag.echo","__proto__":{"admin":true}}'), 400, "VALIDATION_ERROR", "body");
  assert.equal(proto.constraint, "forbidden_key");
  const ctor = await postRaw("/api/v1/jobs", '{"type":"diag.echo","params":{"constructor":{"prototype":{"x":1}}}}');
  assert.equal(assertEnvelope(ctor, 400, "VALIDATION_ERROR", "body").constraint, "forbidden_key");
  assert.match(String(ctor.body.message), /may not contain a 'constructor\.prototype' key/);
  const p = await postRaw("/api/v1/jobs", '{"__proto__":{}}');
  assert.match(String(p.body.message), /may not contain a '__proto__' key/);
  assert.doesNotMatch(String(p.body.message), /not valid JSON/);
  // Broken JSON is still called that.
  const broken = assertEnvelope(await postRaw("/api/v1/jobs", '{"type":'), 400, "VALIDATION_ERROR", "body");
  assert.equal(broken.constraint, "json");
});

test("a spec route's 503 for a model no node offers names the body's field", async () => {
  const img = assertEnvelope(await http(farm.url, "POST", "/api/v1/generate/image", { prompt: "a cat" }), 503, "CAPABILITY_UNAVAILABLE", "model");
  assert.equal(img.model, "sdxl-base-1.0");
  assertEnvelope(await http(farm.url, "POST", "/api/v1/generate/image", { prompt: "a cat", model: "flux.1-dev" }), 503, "CAPABILITY_UNAVAILABLE", "model");
  assertEnvelope(
    await http(farm.url, "POST", "/api/v1/generate/batch", { prompts: ["a", "b"], shared_settings: { model: "sdxl-turbo" } }),
    503,
    "CAPABILITY_UNAVAILABLE",
    "shared_settings.model",
  );
  // POST /api/v1/jobs takes params, so there it stays params.model.
  assertEnvelope(
    await http(farm.url, "POST", "/api/v1/jobs", { type: "image.generate", params: { prompt: "a cat", model: "sdxl-turbo" } }),
    503,
    "CAPABILITY_UNAVAILABLE",
    "params.model",
  );
  // A job type no node offers at all still names `type`.
  assertEnvelope(await http(farm.url, "POST", "/api/v1/suno/lyrics", { prompt: "a cat" }), 503, "CAPABILITY_UNAVAILABLE", "type");
});

test("a media field that cannot read the bytes lists the formats of its own kind", async () => {
  const face = assertEnvelope(
    await http(farm.url, "POST", "/api/v1/face/detect", { image_base64: Buffer.from("hello").toString("base64") }),
    415,
    "UNSUPPORTED_MEDIA_TYPE",
    "image_base64",
  );
  assert.equal(face.constraint, "format");
  const img = await http(farm.url, "POST", "/api/v1/face/detect", { image_base64: Buffer.from("hello").toString("base64") });
  assert.equal(img.body.message, "image_base64: not a supported image format (supported: png, jpeg, webp, gif)");
  const audio = await http(farm.url, "POST", "/api/v1/audio/analyze", { audio_path: Buffer.from("hello").toString("base64") });
  assert.equal(audio.status, 415, JSON.stringify(audio.body));
  // Video containers count: the audio pipeline decodes their sound with ffmpeg.
  assert.equal(audio.body.message, "audio_path: not a supported audio format (supported: wav, mp3, flac, ogg, m4a, mp4, webm, mkv)");
});
