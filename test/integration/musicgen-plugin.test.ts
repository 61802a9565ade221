/**
 * The whole music.generate pipeline on the tiny stand-in MusicGen (test/fixtures/musicgen):
 * T5 tokenizer, text encoder, decoder loop with past key values, guidance and the delay
 * pattern, EnCodec decoding, continuation windows and ffmpeg encoding. The stand-in turns
 * "low" into a 400 Hz tone and "high" into 800 Hz, so the tests check the sound itself.
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import plugin, { runMusicGenerate } from "../../plugins/musicgen/index.ts";
import { loadMusicgen, type MusicgenHandle, type Session } from "../../plugins/musicgen/model.ts";
import { decodeAudio } from "../../plugins/audio/decode.ts";
import { FarmError } from "../../core/errors.ts";
import { buildTinyMusicgen } from "../fixtures/musicgen/tiny-musicgen.ts";
import { makeTaskContext, type TestTaskContext } from "../helpers/task-context.ts";

let modelsDir: string;
const contexts: TestTaskContext[] = [];
beforeAll(() => {
  modelsDir = fs.mkdtempSync(path.join(os.tmpdir(), "nb-musicgen-"));
  buildTinyMusicgen(modelsDir, "musicgen-small");
});
afterAll(() => {
  for (const c of contexts) c.cleanup();
  fs.rmSync(modelsDir, { recursive: true, force: true });
});

function ctxWith(config: Record<string, unknown> = {}): TestTaskContext {
  const c = makeTaskContext({ modelsDir, config });
  contexts.push(c);
  return c;
}

let jobN = 0;
async function generate(params: Record<string, unknown>, ctx = ctxWith()) {
  const job_id = `mg-${++jobN}`;
  const r = await plugin.run({ job_id, type: "music.generate", params: { model: "musicgen-small", ...params }, model: "musicgen-small", attempt: 1 }, ctx);
  return { r, ctx, job_id };
}

async function wavSamples(ctx: TestTaskContext, url: unknown): Promise<Float32Array> {
  const key = `outputs/${String(url).replace(/^\/outputs\//, "")}`;
  const file = path.join(ctx.workDir, path.basename(key));
  await ctx.artifacts.getToFile(key, file);
  return decodeAudio(file, { sampleRate: 32000 });
}

/** Goertzel power at `f` Hz. */
function power(x: Float32Array, f: number, sr = 32000): number {
  const w = (2 * Math.PI * f) / sr;
  const c = 2 * Math.cos(w);
  let s1 = 0,
    s2 = 0;
  for (let i = 0; i < x.length; i++) {
    const s0 = x[i]! + c * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - c * s1 * s2;
}
/** The stronger of the stand-in's two tones in a stretch of audio. */
const tone = (x: Float32Array) => (power(x, 400) > power(x, 800) ? 400 : 800);

test("music.generate: the spec's response, exact duration, the prompt's tone, mp3 and wav in the store", async () => {
  const { r, ctx, job_id } = await generate({ prompt: "low calm drone", duration: 2.5, seed: 7 });
  assert.equal(r.audio_url, `/outputs/music/musicgen-${job_id}.mp3`);
  assert.equal(r.wav_url, `/outputs/music/musicgen-${job_id}.wav`);
  assert.equal(r.model, "musicgen-small");
  assert.equal(r.seed, 7);
  assert.equal(r.sample_rate, 32000);
  assert.equal(r.duration, 2.5);
  assert.equal(r.device, "cpu");
  // 125 frames + 3 delay positions in one window.
  assert.equal(r.tokens, 128);
  assert.equal(r.windows, 1);
  const mp3 = await ctx.artifacts.stat(`outputs/music/musicgen-${job_id}.mp3`);
  assert.ok(mp3 && mp3.size > 10_000, `mp3 size ${mp3?.size}`);
  const x = await wavSamples(ctx, r.wav_url);
  assert.equal(x.length, 80_000);
  assert.ok(power(x, 400) > 100 * power(x, 800), "400 Hz dominates for 'low'");
  const high = await generate({ prompt: "high calm drone", duration: 1, seed: 7 });
  const y = await wavSamples(high.ctx, high.r.wav_url);
  assert.equal(y.length, 32_000);
  assert.equal(tone(y), 800);
  // Progress is reported in tokens, n of N, ending at N.
  const msgs = ctx.progressLog.map((p) => p.message ?? "");
  assert.ok(msgs.includes("Generating tokens 1/128") && msgs.includes("Generating tokens 128/128"), msgs.slice(0, 3).join(" | "));
  assert.equal(ctx.progressLog.at(-1)?.pct, 100);
});

test("seed: the same seed gives an identical wav, an absent seed is drawn and reported, seeds matter", async () => {
  const a = await generate({ prompt: "either", duration: 1, seed: 1234, temperature: 1.2 });
  const b = await generate({ prompt: "either", duration: 1, seed: 1234, temperature: 1.2 });
  const wa = await wavSamples(a.ctx, a.r.wav_url);
  const wb = await wavSamples(b.ctx, b.r.wav_url);
  assert.deepEqual(wa, wb);
  const c = await generate({ prompt: "either", duration: 0.5 });
  assert.ok(Number.isInteger(c.r.seed) && (c.r.seed as number) >= 0, `seed ${c.r.seed}`);
  // "either" weighs 400 and 800 Hz equally at the start: over seeds both must occur.
  const tones = new Set<number>();
  for (let seed = 1; seed <= 8 && tones.size < 2; seed++) {
    const g = await generate({ prompt: "either", duration: 0.3, seed });
    tones.add(tone(await wavSamples(g.ctx, g.r.wav_url)));
  }
  assert.deepEqual([...tones].sort(), [400, 800]);
});

test("continuation: later windows are prompted with the previous codes, so the piece keeps its tone", async () => {
  // 1 s windows with 0.4 s of context: 3.2 s = 50 + 3 x 30 + 20 new frames -> 5 windows.
  for (const seed of [1, 2, 3, 4]) {
    const ctx = ctxWith({ window_s: 1, context_s: 0.4, decode_segment_s: 1.3, decode_overlap_s: 0.2 });
    const { r } = await generate({ prompt: "either", duration: 3.2, seed }, ctx);
    assert.equal(r.windows, 5);
    assert.equal(r.tokens, 160 + 5 * 3);
    const x = await wavSamples(ctx, r.wav_url);
    assert.equal(x.length, 3.2 * 32000);
    const first = tone(x.subarray(0, 16000));
    for (let i = 0; i + 16000 <= x.length; i += 16000) assert.equal(tone(x.subarray(i, i + 16000)), first, `seed ${seed}: chunk at ${i / 32000}s`);
  }
});

test("cancel stops the token loop between steps", async () => {
  const ctx = ctxWith();
  const origin = ctx.progress;
  let cancelledAt: string | undefined;
  ctx.progress = (pct, msg) => {
    origin(pct, msg);
    const m = /^Generating tokens (\d+)\/(\d+)$/.exec(msg ?? "");
    if (m && Number(m[1]) >= 40 && !cancelledAt) {
      cancelledAt = msg;
      ctx.abort();
    }
  };
  await assert.rejects(generate({ prompt: "low", duration: 30, seed: 1 }, ctx), (e: FarmError) => e.code === "JOB_CANCELLED");
  // 30 s = 1500 frames: a 1496-frame window (max_length 1500 less the 4-codebook delay),
  // then 4 frames with 500 frames of context = 1506 steps; none ran after the cancel.
  assert.match(cancelledAt ?? "", /^Generating tokens \d+\/1506$/);
  assert.equal(ctx.progressLog.at(-1)?.message, cancelledAt);
});

test("bad params are VALIDATION_ERROR naming the field; missing files are MODEL_ERROR naming them", async () => {
  await assert.rejects(generate({ prompt: "low", temperature: 0 }), (e: FarmError) => e.code === "VALIDATION_ERROR" && e.details?.field === "temperature");
  await assert.rejects(generate({ prompt: "", duration: 1 }), (e: FarmError) => e.code === "VALIDATION_ERROR" && e.details?.field === "prompt");
  await assert.rejects(generate({ prompt: "low", duration: 301 }), (e: FarmError) => e.code === "VALIDATION_ERROR" && e.details?.field === "duration");
  await assert.rejects(generate({ prompt: "low", seed: -1 }), (e: FarmError) => e.code === "VALIDATION_ERROR" && e.details?.field === "seed");
  await assert.rejects(
    loadMusicgen("musicgen-medium", { modelsDir }),
    (e: FarmError) =>
      e.code === "MODEL_ERROR" &&
      e.message.includes("onnx/decoder_model_merged.onnx_data") &&
      e.message.includes("config.json") &&
      e.message.includes("CC-BY-NC"),
  );
});

test("load/unload: a handle runs on CPU when no GPU is given and releases its sessions on unload", async () => {
  const spec = plugin.manifest.models.find((m) => m.id === "musicgen-small")!;
  const h = (await plugin.load!(spec, { logger: ctxWith().logger, modelsDir, config: {}, gpus: [], gpu_index: null })) as { device: string; disposed: boolean };
  assert.equal(h.device, "cpu");
  const ctx = makeTaskContext({ modelsDir, model: h });
  contexts.push(ctx);
  const r = await plugin.run(
    { job_id: "h1", type: "music.generate", params: { prompt: "high", duration: 0.2, seed: 3 }, model: "musicgen-small", attempt: 1 },
    ctx,
  );
  assert.equal(r.duration, 0.2);
  await plugin.unload!(spec, h);
  assert.equal(h.disposed, true);
});

test("EnCodec segments joined by the crossfade give the same audio as one decode", async () => {
  // The stand-in decodes each frame on its own, so overlapping segments agree exactly and
  // the crossfade must reproduce the one-piece decode (to the 16-bit wav's rounding).
  const one = await generate({ prompt: "either", duration: 3, seed: 77 }, ctxWith({ window_s: 1, context_s: 0.4 }));
  const seg = await generate(
    { prompt: "either", duration: 3, seed: 77 },
    ctxWith({ window_s: 1, context_s: 0.4, decode_segment_s: 0.7, decode_overlap_s: 0.25 }),
  );
  const a = await wavSamples(one.ctx, one.r.wav_url);
  const b = await wavSamples(seg.ctx, seg.r.wav_url);
  assert.equal(a.length, 96_000);
  assert.equal(b.length, 96_000);
  let maxDiff = 0;
  for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!));
  assert.ok(maxDiff <= 2 / 32768, `max difference ${maxDiff}`);
});

test("decoder feeds: cache grows one position per step, use_cache_branch after the prefill, context prefill per window", async () => {
  const base = await loadMusicgen("musicgen-small", { modelsDir });
  const seen: { ids: readonly number[]; past: number; pastBatch: number; cached: boolean; encPast: number }[] = [];
  const decoder = new Proxy(base.decoder, {
    get(target, key) {
      if (key === "run") {
        return (feeds: Record<string, { dims: readonly number[]; data: unknown }>) => {
          seen.push({
            ids: feeds.input_ids!.dims,
            past: feeds["past_key_values.1.decoder.value"]!.dims[2]!,
            pastBatch: feeds["past_key_values.1.decoder.value"]!.dims[0]!,
            cached: Boolean((feeds.use_cache_branch!.data as ArrayLike<number | boolean>)[0]),
            encPast: feeds["past_key_values.0.encoder.key"]!.dims[2]!,
          });
          return target.run(feeds as never);
        };
      }
      const v: unknown = Reflect.get(target, key, target);
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as Session;
  const h: MusicgenHandle = Object.assign(Object.create(null) as MusicgenHandle, base, { decoder });
  try {
    // 1 s windows, 0.4 s context, 1.5 s: window 1 = 50 new frames, window 2 = 20 context + 25 new.
    const ctx = ctxWith({ window_s: 1, context_s: 0.4 });
    const r = await runMusicGenerate({ job_id: "feeds", type: "music.generate", params: { prompt: "low", duration: 1.5, seed: 1 }, attempt: 1 }, ctx, h);
    assert.equal(r.windows, 2);
    assert.equal(seen.length, 53 + 28);
    // Window 1: prefill of the start token (8 rows = 2 guidance rows x 4 codebooks), then one token per step.
    assert.deepEqual(seen[0], { ids: [8, 1], past: 0, pastBatch: 2, cached: false, encPast: 0 });
    for (let i = 1; i < 53; i++) assert.deepEqual(seen[i], { ids: [8, 1], past: i, pastBatch: 2, cached: true, encPast: 2 }, `step ${i}`);
    // Window 2 starts over: start token + 20 context frames in one call, then the cache grows from 21.
    assert.deepEqual(seen[53], { ids: [8, 21], past: 0, pastBatch: 2, cached: false, encPast: 0 });
    for (let i = 1; i < 28; i++) assert.deepEqual(seen[53 + i], { ids: [8, 1], past: 20 + i, pastBatch: 2, cached: true, encPast: 2 }, `window 2 step ${i}`);
  } finally {
    await base.dispose();
  }
});
