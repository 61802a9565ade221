/**
 * A test walks the spec: every endpoint of API_SPEC.md against a real embedded farm
 * (plugins diag, enhance, audio, video; no image/video-generation, Whisper, Suno,
 * MusicGen or face plugin). For each endpoint: a valid request passes validation and is
 * submitted (the real result, 202 for async jobs, or 503 CAPABILITY_UNAVAILABLE naming
 * the exact missing job type); a missing required field, a wrong type and an unknown
 * field each get 400 VALIDATION_ERROR naming the field. Then the transport-level errors
 * (404, bad JSON, 413, 415) and the OpenAPI document.
 */
import { afterAll, beforeAll, describe, test } from "vitest";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { startEmbeddedFarm, type TestFarm } from "../helpers/embedded-farm.ts";
import { http, waitJob, collectWs, type HttpResult } from "../helpers/http.ts";
import { assertEnvelope, makeMedia, type Media } from "./api-fixtures.ts";
import { walkCases, type Expect } from "./api-spec-cases.ts";

let farm: TestFarm;
let media: Media;
/** Jobs the walk got 202 for: the last test checks they really finish with real outputs. */
const acceptedJobs: { id: string; type: string }[] = [];
const api = (method: string, p: string, body?: unknown, headers?: Record<string, string>) => http(farm.url, method, p, body, headers);

beforeAll(async () => {
  media = await makeMedia();
  farm = await startEmbeddedFarm({
    agent: { plugins: ["diag", "enhance", "audio", "video"] },
    // Small so the 413 test needs a small body; every fixture here is far below it.
    api: { body_limit_mb: 1, rate_limits: { enabled: false } },
  });
});
afterAll(async () => {
  await farm?.destroy();
});

/** 503 naming exactly the job type no loaded plugin offers. */
function assertCapability(r: HttpResult, jobType: string): void {
  const d = assertEnvelope(r, 503, "CAPABILITY_UNAVAILABLE", "type");
  assert.equal(d.constraint, "capability");
  assert.equal(d.job_type, jobType);
  assert.match(String(r.body.message), new RegExp(`'${jobType.replace(".", "\\.")}'`));
}

/** 202 {job_id, status, status_url, ws_url}, and the job really exists with the right type. */
async function assertAccepted(r: HttpResult, jobType: string): Promise<string> {
  assert.equal(r.status, 202, JSON.stringify(r.body));
  const id = String(r.body.job_id);
  assert.match(id, /^[A-Za-z0-9_-]+$/);
  assert.ok(["pending", "running", "completed"].includes(String(r.body.status)), JSON.stringify(r.body));
  assert.equal(r.body.status_url, `/api/v1/jobs/${id}`);
  assert.equal(r.body.ws_url, `/ws/${id}`);
  const job = await api("GET", `/api/v1/jobs/${id}`);
  assert.equal(job.status, 200);
  assert.equal(job.body.type, jobType);
  acceptedJobs.push({ id, type: jobType });
  return id;
}

describe("every spec endpoint: valid, missing field, wrong type, unknown field", () => {
  for (const wc of walkCases) {
    test(`${wc.method} ${wc.path}`, async () => {
      for (const v of wc.valid(media)) {
        const r = await api(wc.method, wc.path + (v.query ?? ""), v.body);
        const o = v.expect;
        if (o.kind === "capability") assertCapability(r, o.jobType);
        else if (o.kind === "accepted") await assertAccepted(r, o.jobType);
        else if (o.kind === "ok") {
          assert.equal(r.status, 200, `${v.label}: ${JSON.stringify(r.body)}`);
          o.check(r.body);
        } else assertEnvelope(r, o.status, o.code, o.field);
      }
      for (const bad of wc.invalid(media)) {
        const r = await api(wc.method, wc.path + (bad.query ?? ""), bad.body);
        const d = assertEnvelope(r, 400, "VALIDATION_ERROR", bad.field);
        if (bad.constraint) assert.equal(d.constraint, bad.constraint, `${bad.label}: ${JSON.stringify(r.body)}`);
      }
    });
  }
});

describe("job management and the WebSocket", () => {
  test("jobs/list, jobs/{id}, jobs/{id}/cancel", async () => {
    const echo = await api("POST", "/api/v1/jobs", { type: "diag.echo", params: { walk: 1 } });
    assert.equal(echo.status, 202);
    const id = String(echo.body.job_id);
    const done = await waitJob(farm.url, id);
    assert.equal(done.status, "completed");
    assert.deepEqual(done.result, { echo: { walk: 1 } });

    const list = await api("GET", "/api/v1/jobs/list?type=diag.echo&limit=5");
    assert.equal(list.status, 200);
    assert.equal(list.body.limit, 5);
    assert.equal(list.body.offset, 0);
    const jobs = list.body.jobs as Record<string, unknown>[];
    assert.ok(jobs.some((j) => j.job_id === id));
    assert.ok(jobs.every((j) => j.type === "diag.echo"));
    assert.ok(Number(list.body.total) >= 1);
    assertEnvelope(await api("GET", "/api/v1/jobs/list?limit=abc"), 400, "VALIDATION_ERROR", "limit");
    assertEnvelope(await api("GET", "/api/v1/jobs/list?status=sleeping"), 400, "VALIDATION_ERROR", "status");
    assertEnvelope(await api("GET", "/api/v1/jobs/list?colour=red"), 400, "VALIDATION_ERROR", "colour");

    const one = await api("GET", `/api/v1/jobs/${id}`);
    assert.equal(one.status, 200);
    assert.equal(one.body.job_id, id);
    assert.equal(one.body.status, "completed");
    // The spec's job shape: {job_id, type, status, progress, created_at, updated_at, result, error}.
    assert.equal(one.body.type, "diag.echo");
    assert.equal(one.body.progress, 100);
    for (const k of ["created_at", "updated_at"]) assert.equal(new Date(String(one.body[k])).toISOString(), one.body[k]);
    assert.deepEqual(one.body.result, { echo: { walk: 1 } });
    assert.equal(one.body.error, null);
    assertEnvelope(await api("GET", `/api/v1/jobs/${randomUUID()}`), 404, "NOT_FOUND");
    assertEnvelope(await api("GET", "/api/v1/jobs/not.an.id"), 400, "VALIDATION_ERROR", "job_id");

    const long = await api("POST", "/api/v1/jobs", { type: "diag.sleep", params: { seconds: 30, steps: 30 } });
    const longId = String(long.body.job_id);
    // A client that always sends Content-Type: application/json may cancel with an empty body.
    const cancel = await api("POST", `/api/v1/jobs/${longId}/cancel`, "", { "content-type": "application/json" });
    assert.equal(cancel.status, 200, JSON.stringify(cancel.body));
    assert.equal(cancel.body.job_id, longId);
    assert.equal((await waitJob(farm.url, longId, 60_000)).status, "cancelled");
    assertEnvelope(await api("POST", `/api/v1/jobs/${longId}/cancel`), 409, "CONFLICT");
    const cancelled = await api("GET", "/api/v1/jobs/list?status=cancelled&limit=1000");
    assert.ok((cancelled.body.jobs as Record<string, unknown>[]).some((j) => j.job_id === longId));
    assert.ok((cancelled.body.jobs as Record<string, unknown>[]).every((j) => j.status === "cancelled"));
    assertEnvelope(await api("POST", `/api/v1/jobs/${randomUUID()}/cancel`), 404, "NOT_FOUND");
    assertEnvelope(await api("POST", "/api/v1/jobs/bad%20id/cancel"), 400, "VALIDATION_ERROR", "job_id");
  });

  test("ws/{job_id}: progress then completed; an unknown job gets an error message and a policy close", async () => {
    const sleep = await api("POST", "/api/v1/jobs", { type: "diag.sleep", params: { seconds: 0.6, steps: 3 } });
    const ws = await collectWs(`${farm.url.replace("http", "ws")}/ws/${sleep.body.job_id}`, 60_000);
    assert.equal(ws.closeCode, 1000);
    const last = ws.messages.at(-1) as Record<string, unknown>;
    assert.equal(last.type, "completed");
    assert.equal(last.job_id, sleep.body.job_id);
    assert.equal(new Date(String(last.timestamp)).toISOString(), last.timestamp);
    assert.ok(ws.messages.some((m) => m.type === "progress" && typeof m.progress === "number"));

    const missing = await collectWs(`${farm.url.replace("http", "ws")}/ws/${randomUUID()}`, 60_000);
    assert.equal(missing.closeCode, 1008);
    assert.equal(missing.messages[0]?.type, "error");
    assert.equal(missing.messages[0]?.code, "NOT_FOUND");
  });
});

describe("uploads", () => {
  test("multipart upload -> a ref usable in any media field; wrong kind and non-multipart are refused", async () => {
    const form = new FormData();
    form.append("file", new Blob([new Uint8Array(media.pngBytes)], { type: "image/png" }), "still.png");
    const res = await fetch(`${farm.url}/api/v1/uploads?kind=image`, { method: "POST", body: form });
    const up = (await res.json()) as Record<string, unknown>;
    assert.equal(res.status, 201, JSON.stringify(up));
    assert.match(String(up.ref), /^upload:[0-9a-f]{64}$/);
    assert.equal(up.size, media.pngBytes.length);
    // The ref resolves: animate accepts it (the video plugin is loaded) ...
    await assertAccepted(await api("POST", "/api/v1/video/animate?async=true", { image: up.ref, num_frames: 6, fps: 6 }), "video.animate");
    // ... and an upload ref that does not exist is refused naming the field.
    assertEnvelope(await api("POST", "/api/v1/video/animate?async=true", { image: `upload:${"0".repeat(64)}` }), 400, "VALIDATION_ERROR", "image");

    const audioForm = new FormData();
    audioForm.append("file", new Blob([new Uint8Array(media.pngBytes)], { type: "image/png" }), "still.png");
    const wrongKind = await fetch(`${farm.url}/api/v1/uploads?kind=audio`, { method: "POST", body: audioForm });
    assertEnvelope(
      { status: wrongKind.status, body: (await wrongKind.json()) as Record<string, unknown>, headers: wrongKind.headers },
      415,
      "UNSUPPORTED_MEDIA_TYPE",
      "file",
    );

    assertEnvelope(await api("POST", "/api/v1/uploads", { file: media.pngBase64 }), 415, "UNSUPPORTED_MEDIA_TYPE", "content-type");
  });
});

describe("transport errors use the envelope too", () => {
  test("unknown route -> 404 NOT_FOUND", async () => {
    assertEnvelope(await api("GET", "/api/v1/nothing-here"), 404, "NOT_FOUND", "path");
    assertEnvelope(await api("POST", "/api/v1/enhance/nothing", { prompt: "x" }), 404, "NOT_FOUND", "path");
  });
  test("malformed JSON -> 400 naming the body", async () => {
    const d = assertEnvelope(await api("POST", "/api/v1/enhance/prompt", '{"prompt": "unterminated'), 400, "VALIDATION_ERROR", "body");
    assert.equal(d.constraint, "json");
    // An empty JSON body where one is required names the body too.
    assertEnvelope(await api("POST", "/api/v1/enhance/prompt", "", { "content-type": "application/json" }), 400, "VALIDATION_ERROR", "body");
  });
  test("a body over api.body_limit_mb -> 413 PAYLOAD_TOO_LARGE", async () => {
    const big = { prompt: "x".repeat(1_200_000) };
    assertEnvelope(await api("POST", "/api/v1/enhance/prompt", big), 413, "PAYLOAD_TOO_LARGE", "body");
  });
  test("a wrong content type -> 415 UNSUPPORTED_MEDIA_TYPE", async () => {
    assertEnvelope(
      await api("POST", "/api/v1/enhance/prompt", "prompt=a cat", { "content-type": "text/plain" }),
      415,
      "UNSUPPORTED_MEDIA_TYPE",
      "content-type",
    );
    assertEnvelope(
      await api("POST", "/api/v1/generate/image", "<prompt/>", { "content-type": "application/xml" }),
      415,
      "UNSUPPORTED_MEDIA_TYPE",
      "content-type",
    );
  });
});

describe("OpenAPI document", () => {
  test("/docs/json is an OpenAPI 3 document listing every spec route with its body schema and error responses", async () => {
    const r = await api("GET", "/docs/json");
    assert.equal(r.status, 200);
    const doc = r.body as {
      openapi: string;
      info: { title: string; version: string };
      paths: Record<string, Record<string, Record<string, unknown>>>;
      components?: Record<string, unknown>;
    };
    assert.match(doc.openapi, /^3\.\d+\.\d+$/);
    assert.equal(typeof doc.info.title, "string");
    assert.equal(typeof doc.info.version, "string");

    const cases = walkCases;
    const get = (p: string) => p.replace(/:([a-z_]+)/g, "{$1}");
    const routes: [string, string][] = [
      ...cases.map((c) => [c.method.toLowerCase(), c.path] as [string, string]),
      ["get", "/api/v1/jobs/list"],
      ["get", "/api/v1/jobs/:job_id"],
      ["post", "/api/v1/jobs/:job_id/cancel"],
      ["get", "/ws/:job_id"],
      ["post", "/api/v1/uploads"],
    ];
    for (const [method, p] of routes) {
      const op = doc.paths[get(p)]?.[method];
      assert.ok(op, `${method.toUpperCase()} ${get(p)} is not documented`);
      assert.ok(typeof op.summary === "string" && op.summary.length > 0, `${get(p)} has no summary`);
      const responses = op.responses as Record<string, { description?: string; content?: Record<string, { schema: Record<string, unknown> }> }>;
      for (const [code, resp] of Object.entries(responses)) assert.equal(typeof resp.description, "string", `${get(p)} ${code} has no description`);
      // Path parameters are declared, required, in the path.
      for (const name of [...get(p).matchAll(/\{([a-z_]+)\}/g)].map((m) => m[1])) {
        const params = (op.parameters ?? []) as { name: string; in: string; required?: boolean }[];
        assert.ok(
          params.some((x) => x.name === name && x.in === "path" && x.required === true),
          `${get(p)} does not declare path parameter ${name}`,
        );
      }
      if (p.startsWith("/ws/")) continue;
      for (const code of ["400", "401", "403", "404", "413", "415", "429", "500", "503"]) {
        const schema = responses[code]?.content?.["application/json"]?.schema;
        assert.ok(schema, `${method.toUpperCase()} ${get(p)} does not document error ${code}`);
        assert.deepEqual(schema.required, ["error", "code", "message", "details", "timestamp"]);
      }
      const c = cases.find((x) => x.path === p && x.method.toLowerCase() === method);
      if (method === "post" && c) {
        const body = op.requestBody as
          | {
              required?: boolean;
              content: Record<string, { schema: { type: string; properties: Record<string, unknown>; required?: string[]; additionalProperties?: boolean } }>;
            }
          | undefined;
        assert.ok(body, `${get(p)} has no request body`);
        const schema = body.content["application/json"]?.schema;
        assert.ok(schema, `${get(p)} has no JSON body schema`);
        assert.equal(schema.type, "object");
        assert.equal(schema.additionalProperties, false, `${get(p)} body accepts unknown fields`);
        for (const f of c.requiredFields) {
          assert.ok(schema.required?.includes(f), `${get(p)} does not mark ${f} required`);
        }
        for (const f of c.documentedFields) assert.ok(f in schema.properties, `${get(p)} does not document field ${f}`);
      }
    }
    // Every $ref in the document resolves.
    const text = JSON.stringify(doc);
    for (const m of text.matchAll(/"\$ref":"#\/([^"]+)"/g)) {
      let node: unknown = doc;
      for (const part of String(m[1]).split("/")) node = (node as Record<string, unknown> | undefined)?.[part];
      assert.ok(node, `dangling $ref #/${m[1]}`);
    }
    const ui = await fetch(`${farm.url}/docs/`, { redirect: "follow" });
    assert.equal(ui.status, 200);
    assert.match(await ui.text(), /swagger/i);
  });
});

describe("async answers are real jobs", () => {
  test("Prefer: respond-async and Idempotency-Key", async () => {
    const h = { prefer: "respond-async", "idempotency-key": `walk-${randomUUID()}` };
    const first = await api("POST", "/api/v1/enhance/prompt", { prompt: "a red kite over hills" }, h);
    assert.equal(first.status, 202, JSON.stringify(first.body));
    const again = await api("POST", "/api/v1/enhance/prompt", { prompt: "a red kite over hills" }, h);
    assert.equal(again.body.job_id, first.body.job_id, "same Idempotency-Key, same job");
    const done = await waitJob(farm.url, String(first.body.job_id), 60_000);
    assert.equal(done.status, "completed");
    assert.match(String((done.result as Record<string, unknown>).enhanced_prompt), /kite/i);
  });

  test("every job the walk got 202 for finishes with a real output", async () => {
    assert.ok(acceptedJobs.length >= 7, `only ${acceptedJobs.length} accepted jobs`);
    for (const { id, type } of acceptedJobs) {
      const done = await waitJob(farm.url, id, 40_000);
      assert.equal(done.status, "completed", `${type} ${id}: ${JSON.stringify(done.error)}`);
      const result = done.result as Record<string, unknown>;
      if (type.startsWith("video.")) {
        const url = String(result.video_url);
        assert.match(url, /^\/outputs\//, JSON.stringify(result));
        const head = await fetch(farm.url + url, { headers: { range: "bytes=0-11" } });
        assert.equal(head.status, 206);
        assert.equal(head.headers.get("content-type"), "video/mp4");
        assert.equal(
          Buffer.from(await head.arrayBuffer())
            .subarray(4, 8)
            .toString("latin1"),
          "ftyp",
        );
      } else {
        assert.ok(Array.isArray(result.beats), `${type}: ${JSON.stringify(result)}`);
        assert.ok(
          typeof result.duration === "number" && result.duration > 1.5 && result.duration < 2.5,
          `${type} duration: ${JSON.stringify(result.duration)}`,
        );
      }
    }
  });
});

describe("the spec's own example bodies", () => {
  test("every example request body in API_SPEC.md passes validation (media placeholders replaced by real media)", async () => {
    const m = media;
    const examples: [string, unknown, Expect][] = [
      [
        "/api/v1/enhance/prompt",
        { prompt: "woman singing in a studio", style: "Cinematic", platform: "YouTube (16:9)", enhancement_level: "full", include_negative: true },
        { kind: "ok", check: (b) => assert.equal(b.original_prompt, "woman singing in a studio") },
      ],
      [
        "/api/v1/generate/image",
        {
          prompt: "Enhanced prompt here...",
          negative_prompt: "blurry, distorted...",
          model: "google/gemini-2.0-flash-exp:free",
          width: 1920,
          height: 1080,
          style_preset: "Cinematic",
          reference_images: [m.pngBase64],
          character_id: randomUUID(),
        },
        { kind: "error", status: 404, code: "NOT_FOUND", field: "character_id" },
      ],
      [
        "/api/v1/generate/batch",
        { prompts: ["prompt1", "prompt2", "prompt3"], shared_settings: { style_preset: "Cinematic", character_id: randomUUID() } },
        { kind: "error", status: 404, code: "NOT_FOUND", field: "character_id" },
      ],
      [
        "/api/v1/video/generate",
        {
          prompt: "A serene mountain lake at sunset",
          negative_prompt: "blurry, jittery",
          model: "ltx-video-0.9.7-distilled",
          num_frames: 121,
          height: 512,
          width: 768,
          fps: 24,
          num_inference_steps: 8,
          guidance_scale: 3.0,
          seed: null,
        },
        { kind: "capability", jobType: "video.generate" },
      ],
      [
        "/api/v1/video/animate?async=true",
        { image: m.pngBase64, prompt: "the person waves and smiles", num_frames: 121, motion_strength: 0.8 },
        { kind: "accepted", jobType: "video.animate" },
      ],
      [
        "/api/v1/video/assemble?async=true",
        {
          clips: [{ path: m.pngDataUrl, duration: 5.0, transition_in: "crossfade", transition_out: "dip_to_black" }],
          audio: { path: m.mp3DataUrl, volume: 0.8, fade_in: 1.0, fade_out: 2.0 },
          output_settings: { resolution: "1920x1080", fps: 30, codec: "h264", bitrate: "10M" },
          beat_sync: { enabled: true, beat_markers: [0.5, 1.2, 2.4, 3.6] },
        },
        { kind: "accepted", jobType: "video.assemble" },
      ],
      ["/api/v1/audio/analyze?async=true", { audio_path: m.mp3Base64, analysis_type: "full" }, { kind: "accepted", jobType: "audio.analyze" }],
      [
        "/api/v1/audio/transcribe",
        { audio_path: m.mp3Base64, model: "whisper-large-v3", language: "en", word_timestamps: true },
        { kind: "capability", jobType: "audio.transcribe" },
      ],
      [
        "/api/v1/suno/generate",
        { mode: "simple", prompt: "upbeat pop song about coding", style: "pop", instrumental: false, wait_audio: true, model: "chirp-v3-5" },
        { kind: "capability", jobType: "suno.generate" },
      ],
      ["/api/v1/suno/lyrics", { prompt: "a song about summer adventures" }, { kind: "capability", jobType: "suno.lyrics" }],
      [
        "/api/v1/musicgen/generate",
        { prompt: "calm ambient music for studying", model: "musicgen-medium", duration: 30, temperature: 1.0, top_k: 250 },
        { kind: "capability", jobType: "music.generate" },
      ],
      ["/api/v1/face/detect", { image_base64: m.pngBase64, return_landmarks: true }, { kind: "capability", jobType: "face.detect" }],
      [
        "/api/v1/character/register",
        { name: "Main Character", reference_images: [m.pngBase64, m.pngDataUrl], description: "Young woman with brown hair" },
        { kind: "capability", jobType: "face.embed_references" },
      ],
      [
        "/api/v1/character/verify",
        { character_id: randomUUID(), test_image: m.pngBase64 },
        { kind: "error", status: 404, code: "NOT_FOUND", field: "character_id" },
      ],
    ];
    for (const [url, body, o] of examples) {
      const r = await api("POST", url, body);
      if (o.kind === "capability") assertCapability(r, o.jobType);
      else if (o.kind === "ok") {
        assert.equal(r.status, 200, `${url}: ${JSON.stringify(r.body)}`);
        o.check(r.body);
      } else if (o.kind === "error") assertEnvelope(r, o.status, o.code, o.field);
      else {
        // Accepted; cancelled at once: full-size renders would only burn this machine's CPU.
        await assertAccepted(r, o.jobType);
        acceptedJobs.pop();
        const cancel = await api("POST", `/api/v1/jobs/${r.body.job_id}/cancel`);
        assert.ok([200, 409].includes(cancel.status), JSON.stringify(cancel.body));
      }
    }
  });
});

describe("router errors", () => {
  test("an over-long id or broken percent-encoding in the path -> 400 envelope naming the path, URL not echoed", async () => {
    const long = "a".repeat(300);
    const r1 = assertEnvelope(await api("GET", `/api/v1/jobs/${long}`), 400, "VALIDATION_ERROR", "path");
    assert.equal(r1.constraint, "max_length:100");
    const raw = await fetch(`${farm.url}/api/v1/jobs/${long}`);
    assert.ok(!(await raw.text()).includes(long), "the URL is not echoed back");
    const r2 = assertEnvelope(await api("GET", "/api/v1/jobs/%E0%A4%A"), 400, "VALIDATION_ERROR", "path");
    assert.equal(r2.constraint, "url_encoding");
  });
});
