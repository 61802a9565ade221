/**
 * The suno plugin against a stand-in Suno API bridge: songs generated, waited for,
 * saved into the artifact store; lyrics; credits; and the plugin switching itself off
 * (job types not advertised) when no bridge is configured.
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import os from "node:os";
import path from "node:path";
import suno from "../../plugins/suno/index.ts";
import { preparePlugins } from "../../node-agent/plugin-loader.ts";
import { FarmError } from "../../core/errors.ts";
import { silentLogger } from "../../core/logger.ts";
import { makeTaskContext, type TestTaskContext } from "../helpers/task-context.ts";
import { startFakeBridge, type FakeBridge } from "./suno-fake-bridge.ts";

let bridge: FakeBridge;
beforeAll(async () => {
  bridge = await startFakeBridge();
});
afterAll(async () => {
  await bridge.close();
});

const config = (extra: Record<string, unknown> = {}) => ({ base_url: bridge.url, poll_interval_ms: 20, max_wait_s: 10, timeout_ms: 5000, ...extra });

async function run(type: string, params: Record<string, unknown>, ctx: TestTaskContext, jobId = "job-1") {
  return suno.run({ job_id: jobId, type, params, attempt: 1 }, ctx);
}

interface Song {
  id: string;
  title: string;
  status: string;
  audio_url: string;
  duration: number;
  lyrics: string;
  style: string;
  local_url?: string;
}

test("simple generate waits for both clips, saves every song into outputs/music and reports the spec's shape", async () => {
  const ctx = makeTaskContext({ config: config() });
  try {
    const creditsBefore = bridge.credits.credits_left;
    const r = await run("suno.generate", { prompt: "upbeat pop song about coding", instrumental: true }, ctx, "job-simple");
    const songs = r.songs as Song[];
    assert.equal(r.success, true);
    assert.equal(songs.length, 2);
    for (const s of songs) {
      assert.equal(s.status, "complete");
      assert.match(s.audio_url, new RegExp(`^${bridge.url}/audio/${s.id}\\.mp3$`));
      assert.equal(s.duration, 1.03);
      assert.equal(s.style, "pop upbeat");
      assert.equal(s.local_url, `/outputs/music/job-simple-${s.id}.mp3`);
      const info = await ctx.artifacts.stat(`outputs/music/job-simple-${s.id}.mp3`);
      assert.equal(info?.size, bridge.mp3.length, "stored file has the bridge's bytes");
    }
    assert.deepEqual(r.saved_file, { path: `/outputs/music/job-simple-${songs[0]!.id}.mp3`, size: bridge.mp3.length });
    assert.equal(r.credits_used, 10);
    assert.equal(r.credits_source, "bridge");
    assert.equal(bridge.credits.credits_left, creditsBefore - 10);

    const gen = bridge.requests.find((q) => q.path === "/api/generate");
    assert.deepEqual(gen?.body, { prompt: "upbeat pop song about coding", make_instrumental: true, wait_audio: false, model: "chirp-v3-5" });
    const msgs = ctx.progressLog.map((p) => p.message);
    assert.ok(msgs.includes("Waiting for Suno: 0/2 clips complete"), msgs.join(" | "));
    assert.ok(msgs.includes("Waiting for Suno: 2/2 clips complete"), msgs.join(" | "));
    assert.equal(ctx.progressLog.at(-1)?.pct, 100);
  } finally {
    ctx.cleanup();
  }
});

test("custom generate sends lyrics, style as tags and title to /api/custom_generate with the bearer key", async () => {
  const keyed = await startFakeBridge({ apiKey: "s3cret", steps: ["queued", "complete"] });
  const ctx = makeTaskContext({ config: { base_url: keyed.url, api_key: "s3cret", poll_interval_ms: 20 } });
  try {
    const lyrics = "[Verse]\nCompile my heart\n[Chorus]\nNo errors tonight";
    const r = await run(
      "suno.generate",
      { mode: "custom", prompt: lyrics, style: "synthwave, female vocals", title: "Green Build", model: "chirp-v4" },
      ctx,
      "job-custom",
    );
    const req = keyed.requests.find((q) => q.path === "/api/custom_generate");
    assert.deepEqual(req?.body, {
      prompt: lyrics,
      make_instrumental: false,
      wait_audio: false,
      model: "chirp-v4",
      tags: "synthwave, female vocals",
      title: "Green Build",
    });
    assert.ok(keyed.requests.filter((q) => q.path.startsWith("/api/")).every((q) => q.authorization === "Bearer s3cret"));
    const songs = r.songs as Song[];
    assert.deepEqual(
      songs.map((s) => [s.title, s.lyrics, s.style, s.status]),
      [
        ["Green Build", lyrics, "synthwave, female vocals", "complete"],
        ["Green Build", lyrics, "synthwave, female vocals", "complete"],
      ],
    );
    const stored = await ctx.artifacts.list("outputs/music/");
    assert.deepEqual(
      stored.map((i) => i.size),
      [keyed.mp3.length, keyed.mp3.length],
    );
  } finally {
    ctx.cleanup();
    await keyed.close();
  }
});

test("wait_audio=false returns the submitted clips at once, without polling or saving", async () => {
  const ctx = makeTaskContext({ config: config() });
  try {
    const polls = bridge.requests.filter((q) => q.path.startsWith("/api/get?")).length;
    const r = await run("suno.generate", { prompt: "lofi beats", wait_audio: false }, ctx);
    assert.deepEqual(
      (r.songs as Song[]).map((s) => s.status),
      ["submitted", "submitted"],
    );
    assert.equal(r.saved_file, null);
    assert.equal(r.credits_used, 10);
    assert.equal(bridge.requests.filter((q) => q.path.startsWith("/api/get?")).length, polls);
  } finally {
    ctx.cleanup();
  }
});

test("download=false keeps the bridge's URLs and saves nothing", async () => {
  const ctx = makeTaskContext({ config: config({ download: false }) });
  try {
    const r = await run("suno.generate", { prompt: "jazz trio" }, ctx);
    assert.equal(r.saved_file, null);
    assert.ok((r.songs as Song[]).every((s) => s.status === "complete" && s.local_url === undefined));
    assert.deepEqual(await ctx.artifacts.list("outputs/"), []);
  } finally {
    ctx.cleanup();
  }
});

test("a bridge without /api/get_limit still generates; credits_used is the 10-credit estimate", async () => {
  const old = await startFakeBridge({ noLimit: true, steps: ["complete"] });
  const ctx = makeTaskContext({ config: { base_url: old.url, poll_interval_ms: 20 } });
  try {
    const r = await run("suno.generate", { prompt: "sea shanty" }, ctx);
    assert.equal(r.credits_used, 10);
    assert.equal(r.credits_source, "estimate");
    assert.equal((r.saved_file as { size: number }).size, old.mp3.length);
  } finally {
    ctx.cleanup();
    await old.close();
  }
});

test("suno.lyrics returns title and text; suno.credits the bridge's balance", async () => {
  const ctx = makeTaskContext({ config: config() });
  try {
    const l = await run("suno.lyrics", { prompt: "a song about summer adventures" }, ctx);
    assert.equal(l.title, "Lyrics: a song about summer adventures");
    assert.match(String(l.text), /Lines about a song about summer adventures/);
    assert.equal(l.lyrics, l.text);
    const c = await run("suno.credits", {}, ctx);
    assert.deepEqual(c, { ...bridge.credits });
    assert.equal(typeof c.credits_left, "number");
  } finally {
    ctx.cleanup();
  }
});

test("without plugins.suno.base_url init throws CAPABILITY_UNAVAILABLE and the agent does not advertise suno.*", async () => {
  const ictx = { logger: silentLogger, modelsDir: os.tmpdir(), gpus: [] };
  await assert.rejects(suno.init!({ ...ictx, config: {} }), (e: unknown) => {
    assert.ok(e instanceof FarmError);
    assert.equal(e.code, "CAPABILITY_UNAVAILABLE");
    assert.equal(e.message, "suno bridge not configured: set plugins.suno.base_url");
    return true;
  });
  const off = await preparePlugins([{ name: "suno", plugin: suno }], { modelsDir: path.join(os.tmpdir(), "none"), pluginConfig: {} });
  assert.deepEqual(off.capabilities().job_types, []);
  assert.match(off.disabled()[0]?.reason ?? "", /suno bridge not configured/);
  const on = await preparePlugins([{ name: "suno", plugin: suno }], {
    modelsDir: path.join(os.tmpdir(), "none"),
    pluginConfig: { suno: { base_url: bridge.url } },
  });
  assert.deepEqual(on.capabilities().job_types, ["suno.credits", "suno.generate", "suno.lyrics"]);
});

test("invalid config values are VALIDATION_ERRORs naming plugins.suno.<key>", async () => {
  const ictx = { logger: silentLogger, modelsDir: os.tmpdir(), gpus: [] };
  const cases: [Record<string, unknown>, string][] = [
    [{ base_url: "ftp://bridge.local" }, "plugins.suno.base_url"],
    [{ base_url: "not a url" }, "plugins.suno.base_url"],
    [{ base_url: bridge.url, timeout_ms: "30s" }, "plugins.suno.timeout_ms"],
    [{ base_url: bridge.url, poll_interval_ms: 0 }, "plugins.suno.poll_interval_ms"],
    [{ base_url: bridge.url, max_wait_s: -1 }, "plugins.suno.max_wait_s"],
    [{ base_url: bridge.url, download: "yes" }, "plugins.suno.download"],
    [{ base_url: bridge.url, api_key: 42 }, "plugins.suno.api_key"],
  ];
  for (const [cfg, field] of cases) {
    await assert.rejects(
      suno.init!({ ...ictx, config: cfg }),
      (e: unknown) => {
        assert.ok(e instanceof FarmError);
        assert.equal(e.code, "VALIDATION_ERROR");
        assert.equal(e.details?.field, field);
        return true;
      },
      JSON.stringify(cfg),
    );
  }
});
