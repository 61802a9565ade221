/**
 * The suno plugin when things go wrong: the bridge down, failing, hanging or talking
 * nonsense; Suno failing clips or taking too long; the job cancelled while waiting;
 * bad params. Every failure is a FarmError a client can act on.
 */
import { afterAll, test } from "vitest";
import assert from "node:assert/strict";
import net from "node:net";
import suno from "../../plugins/suno/index.ts";
import { FarmError, type ErrorCode } from "../../core/errors.ts";
import { makeTaskContext } from "../helpers/task-context.ts";
import { downloadClipAudio } from "../../plugins/suno/download.ts";
import { parseSunoConfig } from "../../plugins/suno/config.ts";
import { startFakeBridge, type FakeBridge } from "./suno-fake-bridge.ts";

const bridges: FakeBridge[] = [];
afterAll(async () => {
  await Promise.all(bridges.map((b) => b.close()));
});

async function bridge(opts: Parameters<typeof startFakeBridge>[0] = {}): Promise<FakeBridge> {
  const b = await startFakeBridge(opts);
  bridges.push(b);
  return b;
}

/** Run a job and return the FarmError it must fail with. */
async function failure(
  type: string,
  params: Record<string, unknown>,
  config: Record<string, unknown>,
  onCtx?: (ctx: ReturnType<typeof makeTaskContext>) => void,
): Promise<{ err: FarmError; ctx: ReturnType<typeof makeTaskContext> }> {
  const ctx = makeTaskContext({ config: { poll_interval_ms: 20, ...config } });
  onCtx?.(ctx);
  try {
    await suno.run({ job_id: "job-err", type, params, attempt: 1 }, ctx);
  } catch (err) {
    assert.ok(err instanceof FarmError, `expected a FarmError, got ${String(err)}`);
    return { err, ctx };
  } finally {
    ctx.cleanup();
  }
  assert.fail(`${type} should have failed`);
}

function expect(err: FarmError, code: ErrorCode, constraint?: string): void {
  assert.equal(err.code, code, err.message);
  if (constraint) assert.equal(err.details?.constraint, constraint, err.message);
}

test("a bridge that is down is a retryable EXTERNAL_API_ERROR naming suno", async () => {
  const port = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  const { err } = await failure("suno.credits", {}, { base_url: `http://127.0.0.1:${port}` });
  expect(err, "EXTERNAL_API_ERROR", "unreachable");
  assert.equal(err.details?.field, "suno");
  assert.equal(err.retryable, true);
  assert.match(err.message, /unreachable \(ECONNREFUSED\)/);
});

test("HTTP 500 from the bridge carries the status and the bridge's message", async () => {
  const b = await bridge({ fail500: ["/api/generate"] });
  const { err } = await failure("suno.generate", { prompt: "rock anthem" }, { base_url: b.url });
  expect(err, "EXTERNAL_API_ERROR", "http_status");
  assert.equal(err.details?.status, 500);
  assert.equal(err.retryable, true);
  assert.match(err.message, /HTTP 500: Internal Server Error: suno session expired/);
});

test("a wrong api_key (401) is not retried: the same request would fail again", async () => {
  const b = await bridge({ apiKey: "right" });
  const { err } = await failure("suno.lyrics", { prompt: "rain" }, { base_url: b.url, api_key: "wrong" });
  expect(err, "EXTERNAL_API_ERROR", "http_status");
  assert.equal(err.details?.status, 401);
  assert.equal(err.retryable, false);
});

test("a non-JSON answer is EXTERNAL_API_ERROR invalid_response", async () => {
  const b = await bridge({ garbage: ["/api/generate_lyrics"] });
  const { err } = await failure("suno.lyrics", { prompt: "rain" }, { base_url: b.url });
  expect(err, "EXTERNAL_API_ERROR", "invalid_response");
  assert.match(err.message, /not JSON/);
});

test("a bridge that never answers times out after timeout_ms", async () => {
  const b = await bridge({ hang: ["/api/get_limit"] });
  const { err } = await failure("suno.credits", {}, { base_url: b.url, timeout_ms: 200 });
  expect(err, "EXTERNAL_API_ERROR", "timeout");
  assert.equal(err.retryable, true);
  assert.match(err.message, /within 200 ms/);
});

test("clips that Suno fails are an error naming the clips, not retried (credits are spent)", async () => {
  const b = await bridge({ steps: ["submitted", "error"] });
  const { err } = await failure("suno.generate", { prompt: "doomed" }, { base_url: b.url });
  expect(err, "EXTERNAL_API_ERROR", "clip_error");
  assert.equal(err.retryable, false);
  const ids = err.details?.clip_ids as string[];
  assert.equal(ids.length, 2);
  for (const id of ids) assert.ok(err.message.includes(`${id} (Suno could not render this clip)`), err.message);
});

test("when one clip fails and the other completes, the job succeeds and lists the failed one", async () => {
  const b = await bridge({
    stepsByIndex: [
      ["submitted", "error"],
      ["submitted", "streaming", "complete"],
    ],
  });
  const ctx = makeTaskContext({ config: { base_url: b.url, poll_interval_ms: 20 } });
  try {
    const r = await suno.run({ job_id: "job-half", type: "suno.generate", params: { prompt: "half" }, attempt: 1 }, ctx);
    const songs = r.songs as { id: string; status: string; error_message?: string; local_url?: string }[];
    assert.deepEqual(
      songs.map((s) => s.status),
      ["error", "complete"],
    );
    assert.equal(songs[0]?.error_message, "Suno could not render this clip");
    assert.equal(songs[0]?.local_url, undefined);
    assert.deepEqual(r.saved_file, { path: `/outputs/music/job-half-${songs[1]?.id}.mp3`, size: b.mp3.length });
  } finally {
    ctx.cleanup();
  }
});

test("a bridge that keeps failing polls while clips render gives up after 3 tries, not retried", async () => {
  const b = await bridge({ fail500: ["/api/get"] });
  const { err } = await failure("suno.generate", { prompt: "flaky" }, { base_url: b.url, max_wait_s: 30 });
  expect(err, "EXTERNAL_API_ERROR", "poll");
  assert.equal(err.details?.status, 500);
  assert.equal(err.retryable, false);
  assert.equal((err.details?.clip_ids as string[]).length, 2);
  assert.equal(b.requests.filter((q) => q.path.startsWith("/api/get?")).length, 3);
});

test("clips still rendering after max_wait_s fail with their ids and states", async () => {
  const b = await bridge({ steps: ["submitted", "queued", "streaming"] });
  const { err, ctx } = await failure("suno.generate", { prompt: "endless" }, { base_url: b.url, max_wait_s: 0.3 });
  expect(err, "EXTERNAL_API_ERROR", "max_wait_s");
  assert.equal(err.retryable, false);
  assert.match(err.message, /did not finish 2 of 2 clips within max_wait_s=0.3 \(still clip-\S+: streaming, clip-\S+: streaming\)/);
  assert.ok(ctx.progressLog.some((p) => p.message === "Waiting for Suno: 0/2 clips complete"));
  assert.ok(b.requests.filter((q) => q.path.startsWith("/api/get?")).length >= 3, "it kept polling until the deadline");
});

test("cancelling while waiting for clips stops polling at once with JOB_CANCELLED", async () => {
  const b = await bridge({ steps: ["submitted"] });
  const { err } = await failure("suno.generate", { prompt: "cancel me" }, { base_url: b.url, poll_interval_ms: 50, max_wait_s: 60 }, (ctx) => {
    const origProgress = ctx.progress;
    ctx.progress = (pct, msg) => {
      origProgress(pct, msg);
      if (msg?.startsWith("Waiting for Suno") && b.requests.filter((q) => q.path.startsWith("/api/get?")).length >= 2) ctx.abort();
    };
  });
  expect(err, "JOB_CANCELLED");
  const polls = b.requests.filter((q) => q.path.startsWith("/api/get?")).length;
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(b.requests.filter((q) => q.path.startsWith("/api/get?")).length, polls, "no polls after the cancel");
});

test("audio that is not MP3 is not saved as a song; the generated songs are still returned", async () => {
  const b = await bridge({ steps: ["complete"], audioBody: Buffer.from("<html>expired link</html>") });
  const ctx = makeTaskContext({ config: { base_url: b.url, poll_interval_ms: 20 } });
  try {
    const r = await suno.run({ job_id: "job-html", type: "suno.generate", params: { prompt: "x" }, attempt: 1 }, ctx);
    assert.equal(r.saved_file, null);
    assert.match(String(r.download_error), /is not MP3/);
    assert.equal((r.songs as unknown[]).length, 2);
    assert.deepEqual(await ctx.artifacts.list("outputs/"), []);
  } finally {
    ctx.cleanup();
  }
});

test("audio over the size cap is refused and nothing is stored; non-http audio URLs are refused", async () => {
  const b = await bridge();
  const ctx = makeTaskContext();
  try {
    const cfg = parseSunoConfig({ base_url: b.url });
    await assert.rejects(downloadClipAudio(`${b.url}/audio/x.mp3`, "outputs/music/cap.mp3", cfg, ctx, 1000), (e: unknown) => {
      assert.ok(e instanceof FarmError);
      expect(e, "EXTERNAL_API_ERROR", "max_size");
      return true;
    });
    await assert.rejects(downloadClipAudio("file:///etc/passwd", "outputs/music/f.mp3", cfg, ctx), (e: unknown) => {
      assert.ok(e instanceof FarmError);
      expect(e, "EXTERNAL_API_ERROR", "audio_url");
      return true;
    });
    assert.deepEqual(await ctx.artifacts.list("outputs/"), []);
  } finally {
    ctx.cleanup();
  }
});

test("an account without enough credits fails before submitting anything", async () => {
  const b = await bridge();
  b.credits.credits_left = 5;
  const { err } = await failure("suno.generate", { prompt: "x" }, { base_url: b.url });
  expect(err, "EXTERNAL_API_ERROR", "credits");
  assert.match(err.message, /not enough Suno credits: 5 left, a generation costs 10/);
  assert.ok(!b.requests.some((q) => q.path === "/api/generate"));
});

test("bad params are VALIDATION_ERRORs naming the field, before any bridge call", async () => {
  const b = await bridge();
  const cases: [string, Record<string, unknown>, string][] = [
    ["suno.generate", {}, "prompt"],
    ["suno.generate", { prompt: "" }, "prompt"],
    ["suno.generate", { prompt: "x".repeat(3001) }, "prompt"],
    ["suno.generate", { prompt: "ok", mode: "remix" }, "mode"],
    ["suno.generate", { prompt: "ok", instrumental: "yes" }, "instrumental"],
    ["suno.generate", { prompt: "ok", style: 7 }, "style"],
    ["suno.generate", { prompt: "ok", model: "chirp v3" }, "model"],
    ["suno.lyrics", { prompt: 5 }, "prompt"],
  ];
  for (const [type, params, field] of cases) {
    const { err } = await failure(type, params, { base_url: b.url });
    expect(err, "VALIDATION_ERROR");
    assert.equal(err.details?.field, field, JSON.stringify(params));
  }
  assert.equal(b.requests.length, 0);
});
