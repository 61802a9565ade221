/**
 * remote-image plugin against a local stand-in of OpenRouter, OpenAI's Images API and
 * Google's Gemini API (test/fixtures/remote-image/provider-standin.ts): each protocol's
 * request and answer, retries on 429 (Retry-After) and 5xx, no retry on a content-policy
 * refusal, timeouts, malformed and image-less answers, key redaction, config validation.
 */
import assert from "node:assert/strict";
import { afterAll, beforeAll, beforeEach, describe, it } from "vitest";
import sharp from "sharp";
import { FarmError } from "../../core/errors.ts";
import { silentLogger } from "../../core/logger.ts";
import type { Readable } from "node:stream";
import plugin from "../../plugins/remote-image/index.ts";
import { parseRemoteImageConfig } from "../../plugins/remote-image/config.ts";
import { runRemoteImage } from "../../plugins/remote-image/generate.ts";
import type { ClientDeps } from "../../plugins/remote-image/provider-client.ts";
import { startProviderStandin, type ProviderStandin } from "../fixtures/remote-image/provider-standin.ts";
import { makeTaskContext, type TestTaskContext } from "../helpers/task-context.ts";

let sp: ProviderStandin;
const ctxs: TestTaskContext[] = [];
beforeAll(async () => {
  sp = await startProviderStandin();
});
afterAll(async () => {
  ctxs.forEach((c) => c.cleanup());
  await sp.close();
});
beforeEach(() => {
  sp.script = [];
  sp.requests = [];
  sp.retryAfter = "1";
});

const GEM = "google/gemini-2.0-flash-exp:free";
const rawConfig = (extra: Record<string, unknown> = {}) => ({
  max_retries: 3,
  retry_base_ms: 100,
  retry_max_ms: 5000,
  timeout_ms: 2000,
  ...extra,
  providers: {
    openrouter: { protocol: "openrouter-chat", base_url: `${sp.url}/api/v1`, api_key: sp.key, models: { [GEM]: "google/gemini-2.0-flash-exp:free" } },
    openai: { protocol: "openai-images", base_url: `${sp.url}/v1`, api_key_env: "TEST_OPENAI_KEY", models: { "gpt-image-1": "gpt-image-1" } },
    google: { protocol: "gemini", base_url: `${sp.url}/v1beta`, api_key: sp.key, models: { "gemini-2.0-flash-exp": "gemini-2.0-flash-exp-image-generation" } },
  },
});
const config = (extra: Record<string, unknown> = {}) => parseRemoteImageConfig(rawConfig(extra), { TEST_OPENAI_KEY: sp.key });

/** Client deps that record waits instead of sleeping (the wait policy is what is tested). */
function fakeDeps(): ClientDeps & { waits: number[] } {
  const waits: number[] = [];
  return {
    waits,
    random: () => 0.5,
    sleep: async (ms, signal) => {
      waits.push(ms);
      if (signal.aborted) throw signal.reason;
    },
  };
}

async function run(params: Record<string, unknown>, model: string, opts: { cfg?: ReturnType<typeof config>; deps?: ClientDeps; ctx?: TestTaskContext } = {}) {
  const ctx = opts.ctx ?? makeTaskContext();
  ctxs.push(ctx);
  const result = await runRemoteImage(
    { job_id: `job-${ctxs.length}`, type: "image.generate", params, model, attempt: 1 },
    ctx,
    opts.cfg ?? config(),
    opts.deps ?? fakeDeps(),
  );
  return { result, ctx };
}

async function stored(ctx: TestTaskContext, url: string) {
  const key = `outputs/${url.replace(/^\/outputs\//, "")}`;
  const chunks: Buffer[] = [];
  for await (const c of (await ctx.artifacts.get(key)) as Readable) chunks.push(c as Buffer);
  return sharp(Buffer.concat(chunks)).metadata();
}

const farmErr = (code: string, re: RegExp, check?: (e: FarmError) => void) => (e: unknown) => {
  assert.ok(e instanceof FarmError, String(e));
  assert.equal(e.code, code);
  assert.match(e.message, re);
  check?.(e);
  return true;
};

describe("remote-image: the three protocols", () => {
  it("OpenRouter chat: Bearer key, modalities, mapped model; the data-URL image is verified and stored; seed null", async () => {
    const { result, ctx } = await run(
      { prompt: "a lighthouse at dusk", negative_prompt: "blurry", width: 1024, height: 1024, seed: 7, style_preset: "Cinematic" },
      GEM,
    );
    const req = sp.requests[0]!;
    assert.equal(req.path, "/api/v1/chat/completions");
    assert.equal(req.headers.authorization, `Bearer ${sp.key}`);
    assert.deepEqual(req.body.modalities, ["image", "text"]);
    assert.equal(req.body.model, "google/gemini-2.0-flash-exp:free");
    assert.match(JSON.stringify(req.body.messages), /a lighthouse at dusk.*Style: Cinematic.*Avoid: blurry/);
    const meta = result.metadata as Record<string, unknown>;
    assert.equal(result.image_url, `/outputs/images/job-${ctxs.length}.png`);
    assert.equal(result.image_base64, undefined, "only when asked");
    assert.equal(meta.model, GEM);
    assert.equal(meta.resolution, "1024x1024");
    assert.equal(meta.seed, null, "OpenRouter reports no seed: none is invented");
    assert.equal(typeof meta.generation_time, "number");
    const m = await stored(ctx, String(result.image_url));
    assert.equal(m.format, "png");
    assert.equal(m.width, 1024);
  });

  it("OpenAI images: size and b64_json; image_base64 when asked; the real size is reported", async () => {
    const { result, ctx } = await run({ prompt: "a red fox", width: 512, height: 768, return_base64: true }, "gpt-image-1");
    const req = sp.requests[0]!;
    assert.equal(req.path, "/v1/images/generations");
    assert.deepEqual({ ...req.body, prompt: undefined }, { model: "gpt-image-1", prompt: undefined, size: "512x768", n: 1, response_format: "b64_json" });
    assert.equal((result.metadata as Record<string, unknown>).resolution, "512x768");
    const fromB64 = await sharp(Buffer.from(String(result.image_base64), "base64")).metadata();
    assert.deepEqual([fromB64.width, fromB64.height], [512, 768]);
    assert.equal((await stored(ctx, String(result.image_url))).height, 768);
  });

  it("Gemini generateContent: x-goog-api-key, responseModalities, the inlineData part", async () => {
    const { result } = await run({ prompt: "a teapot" }, "gemini-2.0-flash-exp");
    const req = sp.requests[0]!;
    assert.equal(req.path, "/v1beta/models/gemini-2.0-flash-exp-image-generation:generateContent");
    assert.equal(req.headers["x-goog-api-key"], sp.key);
    assert.equal(req.headers.authorization, undefined);
    assert.deepEqual((req.body.generationConfig as Record<string, unknown>).responseModalities, ["TEXT", "IMAGE"]);
    assert.equal((result.metadata as Record<string, unknown>).resolution, "1024x1024");
  });

  it("reference images go with the prompt as image parts; the images API refuses them by field", async () => {
    const ctx = makeTaskContext();
    const ref = await sharp({ create: { width: 64, height: 64, channels: 3, background: "#fff" } })
      .jpeg()
      .toBuffer();
    await ctx.artifacts.put("uploads/ref.jpg", ref, { size: ref.length, contentType: "image/jpeg" });
    await run({ prompt: "same style", reference_images: ["uploads/ref.jpg"] }, GEM, { ctx });
    const content = (sp.requests[0]!.body.messages as { content: { type: string; image_url?: { url: string } }[] }[])[0]!.content;
    assert.equal(content[1]!.type, "image_url");
    assert.ok(content[1]!.image_url!.url.startsWith("data:image/jpeg;base64,"));
    await assert.rejects(
      run({ prompt: "x", reference_images: ["uploads/ref.jpg"] }, "gpt-image-1", { ctx: makeTaskContext() }),
      farmErr("VALIDATION_ERROR", /reference_images are not supported/, (e) => assert.equal(e.details?.field, "reference_images")),
    );
  });
});

describe("remote-image: retries and failures", () => {
  it("429 with Retry-After: waits what the provider asked, then succeeds", async () => {
    sp.script = ["429"];
    sp.retryAfter = "2";
    const deps = fakeDeps();
    const { result } = await run({ prompt: "x" }, GEM, { deps });
    assert.deepEqual(deps.waits, [2000]);
    assert.equal(sp.requests.length, 2);
    assert.ok(result.image_url);
  });

  it("5xx: exponential back-off with jitter, bounded; then EXTERNAL_API_ERROR 502 with the provider's message, not retryable", async () => {
    sp.script = ["500", "500", "500", "500"];
    const deps = fakeDeps();
    const ctx = makeTaskContext();
    await assert.rejects(
      run({ prompt: "x" }, "gemini-2.0-flash-exp", { deps, ctx }),
      farmErr("EXTERNAL_API_ERROR", /HTTP 500: An internal error has occurred.*gave up after 4 attempts/, (e) => {
        assert.equal(e.status, 502);
        assert.equal(e.retryable, false);
        assert.equal(e.details?.status, 500);
      }),
    );
    assert.equal(sp.requests.length, 4, "max_retries 3 = 4 attempts");
    assert.deepEqual(deps.waits, [50, 100, 200], "random 0.5 x base 100 x 2^n");
    assert.deepEqual(await ctx.artifacts.list("outputs/"), [], "nothing stored: no placeholder image");
  });

  it("a content-policy refusal is not retried and carries the provider's words", async () => {
    sp.script = ["400-policy"];
    await assert.rejects(
      run({ prompt: "x" }, "gpt-image-1"),
      farmErr("EXTERNAL_API_ERROR", /refused the request: HTTP 400: Your request was rejected as a result of our safety system/),
    );
    assert.equal(sp.requests.length, 1);
    sp.script = ["400-policy"];
    await assert.rejects(run({ prompt: "x" }, GEM), farmErr("EXTERNAL_API_ERROR", /HTTP 403: Input was flagged by moderation: violence/));
  });

  it("an attempt that never answers times out and is retried, boundedly", async () => {
    sp.script = ["hang", "hang"];
    const cfg = config({ timeout_ms: 200, max_retries: 1 });
    await assert.rejects(run({ prompt: "x" }, GEM, { cfg }), farmErr("EXTERNAL_API_ERROR", /no answer within 200 ms \(gave up after 2 attempts\)/));
    assert.equal(sp.requests.length, 2);
  });

  it("malformed, text-only and non-image answers fail clearly", async () => {
    sp.script = ["malformed"];
    await assert.rejects(run({ prompt: "x" }, GEM), farmErr("EXTERNAL_API_ERROR", /body that is not JSON/));
    sp.script = ["text-only"];
    await assert.rejects(run({ prompt: "x" }, GEM), farmErr("EXTERNAL_API_ERROR", /without an image: .*the model answered text only: "I can't draw that\."/));
    sp.script = ["not-image"];
    await assert.rejects(run({ prompt: "x" }, "gpt-image-1"), farmErr("EXTERNAL_API_ERROR", /not a readable image/));
  });

  it("a wrong key: the provider's message, with the key blanked out", async () => {
    const cfg = parseRemoteImageConfig(rawConfig(), { TEST_OPENAI_KEY: "sk-wrong-key-abcdef123456" });
    await assert.rejects(run({ prompt: "x" }, "gpt-image-1", { cfg }), (e: unknown) => {
      assert.ok(e instanceof FarmError && e.code === "EXTERNAL_API_ERROR");
      assert.match(e.message, /HTTP 401: Incorrect API key provided/);
      assert.doesNotMatch(JSON.stringify(e.toJSON()), /123456|wrong-key/);
      return true;
    });
  });

  it("cancel during a back-off stops at once", async () => {
    sp.script = ["500", "500"];
    const ctx = makeTaskContext();
    const deps: ClientDeps = {
      random: () => 0.5,
      sleep: async () => {
        ctx.abort();
        throw new Error("aborted");
      },
    };
    await assert.rejects(run({ prompt: "x" }, GEM, { ctx, deps }), farmErr("JOB_CANCELLED", /cancelled while waiting/));
  });
});

describe("remote-image: config and advertising", () => {
  it("a provider without a key is left out: its models (and the unmapped spec model) are reported unavailable with the reason", async () => {
    const cfg = parseRemoteImageConfig(rawConfig(), {});
    assert.deepEqual(cfg.skipped, [{ provider: "openai", models: ["gpt-image-1"], reason: "no API key: environment variable TEST_OPENAI_KEY is not set" }]);
    assert.deepEqual([...cfg.byModel.keys()], [GEM, "gemini-2.0-flash-exp"]);
    const only = { providers: { openai: { protocol: "openai-images", base_url: "http://127.0.0.1:9", api_key_env: "NB_TEST_UNSET_KEY", models: { a: "b" } } } };
    await plugin.init!({ logger: silentLogger, modelsDir: "/tmp", config: only, gpus: [] });
    assert.deepEqual(plugin.manifest.job_types[0]!.models, ["a", GEM]);
    assert.deepEqual(await plugin.discoverModels!(), {
      missing: {
        a: ["provider 'openai': no API key: environment variable NB_TEST_UNSET_KEY is not set"],
        [GEM]: ["not configured: map it under plugins.remote-image.providers.<name>.models (e.g. an openrouter-chat provider with a key)"],
      },
    });
  });

  it("init advertises the configured models", async () => {
    await plugin.init!({
      logger: silentLogger,
      modelsDir: "/tmp",
      config: { providers: { g: { protocol: "gemini", base_url: sp.url, api_key: "k", models: { "my-gemini": "gemini-x", [GEM]: "gemini-2.0-flash-exp" } } } },
      gpus: [],
    });
    assert.deepEqual(plugin.manifest.job_types[0]!.models, ["my-gemini", GEM]);
    assert.deepEqual(await plugin.discoverModels!(), { missing: {} });
  });

  it("bad config names the key", () => {
    const field = (raw: Record<string, unknown>) => {
      try {
        parseRemoteImageConfig(raw, {});
        return "no error";
      } catch (e) {
        return (e as FarmError).details?.field;
      }
    };
    assert.equal(
      field({ providers: { x: { protocol: "dalle", base_url: "http://a", api_key: "k", models: { a: "b" } } } }),
      "plugins.remote-image.providers.x.protocol",
    );
    assert.equal(
      field({ providers: { x: { protocol: "gemini", base_url: "ftp://a", api_key: "k", models: { a: "b" } } } }),
      "plugins.remote-image.providers.x.base_url",
    );
    assert.equal(
      field({ providers: { x: { protocol: "gemini", base_url: "http://a", api_key: "k", models: {} } } }),
      "plugins.remote-image.providers.x.models",
    );
    assert.equal(field({ max_retries: 99 }), "plugins.remote-image.max_retries");
  });

  it("bad params are a VALIDATION_ERROR naming the field; an unconfigured model is CAPABILITY_UNAVAILABLE", async () => {
    // The job type's one schema (core/job-types/image-generate.ts) decides: the field and the broken keyword.
    await assert.rejects(run({}, GEM), farmErr("VALIDATION_ERROR", /prompt is required/));
    await assert.rejects(
      run({ prompt: "" }, GEM),
      (e: unknown) => e instanceof FarmError && e.details?.field === "prompt" && e.details.constraint === "minLength",
    );
    await assert.rejects(
      run({ prompt: "  " }, GEM),
      (e: unknown) => e instanceof FarmError && e.details?.field === "prompt" && e.details.constraint === "pattern",
    );
    await assert.rejects(run({ prompt: "x", style_preset: "Watercolour" }, GEM), (e: unknown) => e instanceof FarmError && e.details?.field === "style_preset");
    await assert.rejects(run({ prompt: "x", width: 100 }, GEM), (e: unknown) => e instanceof FarmError && e.details?.field === "width");
    await assert.rejects(run({ prompt: "x" }, "sdxl-base-1.0"), farmErr("CAPABILITY_UNAVAILABLE", /no provider configured for model 'sdxl-base-1.0'/));
    assert.equal(sp.requests.length, 0);
  });
});
