/**
 * The optional LLM engine against a stand-in OpenAI-compatible server on 127.0.0.1:
 * its text is used for the configured stages; a 500, a timeout, malformed JSON or an
 * unusable answer falls back to the rules and the engines map says why.
 */
import { afterAll, beforeAll, beforeEach, describe, it } from "vitest";
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { FarmError } from "../../core/errors.ts";
import plugin, { enhancePrompt, enhancePromptAsync, parseLlmConfig, type LlmConfig } from "../../plugins/enhance/index.ts";
import { makeTaskContext } from "../helpers/task-context.ts";
import { manifestProblems } from "../../node-agent/manifest-schema.ts";

type Mode = "ok" | "http500" | "hang" | "badjson" | "garbage";

interface Seen {
  url: string;
  auth: string | undefined;
  body: { model?: string; messages?: { role: string; content: string }[] };
}

let mode: Mode = "ok";
let seen: Seen[] = [];
let server: http.Server;
let baseUrl = "";

/** The stand-in answers each stage with phrases made of words no rules stage uses. */
const llmText = (stage: string) => `${stage}-zephyr quartz shimmer, obsidian ${stage}-lattice glow`;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let raw = "";
    req.on("data", (c) => (raw += c));
    req.on("end", () => {
      const body = JSON.parse(raw) as Seen["body"];
      seen.push({ url: req.url ?? "", auth: req.headers.authorization, body });
      const stage = /Stage: (\w+)/.exec(body.messages?.[1]?.content ?? "")?.[1] ?? "unknown";
      if (mode === "hang") return; // never answers; the client's timeout must fire
      if (mode === "http500") {
        res.writeHead(500, { "content-type": "application/json" }).end('{"error":"model overloaded"}');
        return;
      }
      if (mode === "badjson") {
        res.writeHead(200, { "content-type": "application/json" }).end("{not json");
        return;
      }
      const content =
        mode === "garbage"
          ? "I'm sorry, as a language model I cannot help with making a prompt for this particular stage of the request today."
          : llmText(stage);
      res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ id: "x", object: "chat.completion", choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  mode = "ok";
  seen = [];
});

const config = (extra: Record<string, unknown> = {}): LlmConfig =>
  parseLlmConfig({ llm: { base_url: baseUrl, model: "stand-in-7b", timeout_ms: 2000, ...extra } })!;
const PARAMS = { prompt: "woman singing in a studio", style: "Cinematic", platform: "YouTube (16:9)" };
const FIXED = () => new Date("2026-01-02T03:04:05.000Z");

describe("enhance LLM engine", () => {
  it("uses the LLM's text for the configured stages and the rules for the rest", async () => {
    const r = await enhancePromptAsync(PARAMS, { llm: config({ stages: ["scene", "cinematic"], api_key: "sk-test" }) });
    assert.equal(r.engines.scene, "llm");
    assert.equal(r.engines.cinematic, "llm");
    for (const s of ["concept", "visual", "narrative", "technical", "consistency"] as const) assert.equal(r.engines[s], "rules");
    assert.ok(r.enhanced_prompt.includes("scene-zephyr quartz shimmer"));
    assert.ok(r.enhanced_prompt.includes("obsidian cinematic-lattice glow"));
    assert.ok(!r.enhanced_prompt.includes("acoustic foam panels"), "the rules' scene phrases are replaced");
    // Facts stay: subject first, platform resolution, style keywords, and the lens re-anchored by consistency.
    assert.ok(r.enhanced_prompt.startsWith("Woman singing in a studio, "));
    assert.ok(r.enhanced_prompt.includes("1920x1080") && r.enhanced_prompt.includes("anamorphic bokeh"));
    assert.ok(r.enhanced_prompt.includes("shot on 35mm anamorphic lens"));
    assert.equal(seen.length, 2);
    assert.equal(seen[0]?.url, "/v1/chat/completions");
    assert.equal(seen[0]?.auth, "Bearer sk-test");
    assert.equal(seen[0]?.body.model, "stand-in-7b");
    assert.match(seen[1]?.body.messages?.[1]?.content ?? "", /Prompt so far: Woman singing in a studio, .*scene-zephyr quartz shimmer/);
  });

  it("falls back to the rules on HTTP 500 and skips the endpoint for later stages, saying so", async () => {
    mode = "http500";
    const r = await enhancePromptAsync(PARAMS, { llm: config(), now: FIXED });
    assert.match(r.engines.concept ?? "", /^rules \(llm failed: HTTP 500 \(\{"error":"model overloaded"\}\)\)$/);
    assert.match(r.engines.scene ?? "", /^rules \(llm failed: skipped after earlier failure: HTTP 500/);
    assert.equal(seen.length, 1, "one failed call, not seven");
    const rules = enhancePrompt(PARAMS, { now: FIXED });
    assert.equal(r.enhanced_prompt, rules.enhanced_prompt, "the fallback is exactly the rules output");
  });

  it("falls back to the rules on timeout and names the limit", async () => {
    mode = "hang";
    const r = await enhancePromptAsync(PARAMS, { llm: config({ timeout_ms: 150, stages: ["visual"] }) });
    assert.equal(r.engines.visual, "rules (llm failed: timeout after 150 ms)");
    assert.ok(r.enhanced_prompt.includes("three-point cinematic lighting"));
  });

  it("falls back to the rules on malformed JSON, stage by stage", async () => {
    mode = "badjson";
    const r = await enhancePromptAsync(PARAMS, { llm: config({ stages: ["concept", "narrative"] }) });
    assert.match(r.engines.concept ?? "", /^rules \(llm failed: malformed response: not JSON/);
    assert.match(r.engines.narrative ?? "", /^rules \(llm failed: malformed response: not JSON/);
    assert.equal(seen.length, 2);
  });

  it("falls back to the rules when the answer is not prompt phrases", async () => {
    mode = "garbage";
    const r = await enhancePromptAsync(PARAMS, { llm: config({ stages: ["scene"] }) });
    assert.match(r.engines.scene ?? "", /^rules \(llm failed: unusable answer: not prompt phrases/);
    assert.ok(r.enhanced_prompt.includes("acoustic foam panels"));
    assert.ok(!r.enhanced_prompt.includes("language model"));
  });

  it("reports a refused connection as the reason", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const r = await enhancePromptAsync(PARAMS, { llm: parseLlmConfig({ llm: { base_url: `http://127.0.0.1:${port}/v1`, model: "m", stages: ["scene"] } })! });
    assert.equal(r.engines.scene, "rules (llm failed: connection failed: ECONNREFUSED)");
  });

  it("runs the rules for a stage whose LLM phrases all repeated the prompt, saying so", async () => {
    const prompt = "woman singing in a studio, scene-zephyr quartz shimmer with obsidian scene-lattice glow";
    const r = await enhancePromptAsync({ ...PARAMS, prompt }, { llm: config({ stages: ["scene"] }) });
    assert.equal(r.engines.scene, "rules (llm failed: no new phrases, every one repeated the prompt)");
    assert.ok(r.enhanced_prompt.includes("acoustic foam panels"));
  });

  it("sends nothing to the LLM when the request asks for engine 'rules'", async () => {
    const r = await enhancePromptAsync({ ...PARAMS, engine: "rules" }, { llm: config() });
    assert.equal(seen.length, 0);
    assert.ok(Object.values(r.engines).every((e) => e === "rules"));
  });

  it("cancels, not falls back, when the job's signal aborts mid-call", async () => {
    mode = "hang";
    const ac = new AbortController();
    const p = enhancePromptAsync(PARAMS, { llm: config({ timeout_ms: 5000 }), signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await assert.rejects(p, (e: unknown) => e instanceof FarmError && e.code === "JOB_CANCELLED");
  });

  it("runs as the enhance.prompt plugin with plugins.enhance.llm config and reports stage progress", async () => {
    const ctx = makeTaskContext({ config: { llm: { base_url: baseUrl, model: "stand-in-7b", stages: ["narrative"] } } });
    try {
      assert.equal(plugin.manifest.job_types[0]?.type, "enhance.prompt");
      assert.deepEqual(manifestProblems(plugin.manifest, "plugins/enhance"), []);
      const out = await plugin.run(
        { job_id: "j1", type: "enhance.prompt", params: { prompt: "a knight riding into battle", enhancement_level: "standard" }, attempt: 1 },
        ctx,
      );
      assert.deepEqual(out["stages_completed"], ["concept", "scene", "visual", "cinematic", "narrative"]);
      assert.deepEqual(out["engines"], { concept: "rules", scene: "rules", visual: "rules", cinematic: "rules", narrative: "llm" });
      assert.ok(String(out["enhanced_prompt"]).includes("narrative-zephyr quartz shimmer"));
      assert.deepEqual(ctx.progressLog.at(-1), { pct: 100, message: "Stage 5/5: narrative" });
      await assert.rejects(
        plugin.run({ job_id: "j2", type: "enhance.prompt", params: { prompt: "x", style: "Nope" }, attempt: 1 }, ctx),
        (e: unknown) => e instanceof FarmError && e.code === "VALIDATION_ERROR" && e.details?.field === "style",
      );
    } finally {
      ctx.cleanup();
    }
  });

  it("rejects a broken LLM config naming the key", () => {
    assert.throws(
      () => parseLlmConfig({ llm: { base_url: "ftp://x", model: "m" } }),
      (e: unknown) => e instanceof FarmError && e.details?.field === "plugins.enhance.llm.base_url",
    );
    assert.throws(
      () => parseLlmConfig({ llm: { base_url: baseUrl, model: "m", stages: ["lighting"] } }),
      (e: unknown) => e instanceof FarmError && e.details?.field === "plugins.enhance.llm.stages",
    );
    assert.equal(parseLlmConfig({}), undefined);
    assert.deepEqual(config().stages, ["concept", "scene", "visual", "cinematic", "narrative", "technical", "consistency"]);
  });
});
