/**
 * audio.transcribe end to end on a tiny stand-in Whisper (test/fixtures/whisper/tiny-whisper.ts:
 * real ONNX sessions through transformers.js, a decoder whose token script is known), real
 * ffmpeg decoding and real Silero VAD: feature extraction, encoder, decoder loop with past key
 * values, timestamp tokens to seconds, DTW word times, window merge, SRT/VTT, cancel, unload.
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import plugin from "../../plugins/speech/index.ts";
import { manifest } from "../../plugins/speech/manifest.ts";
import type { WhisperHandle } from "../../plugins/speech/whisper-model.ts";
import { FarmError } from "../../core/errors.ts";
import { silentLogger } from "../../core/logger.ts";
import type { ModelSpec, PluginInitContext } from "../../core/plugin-contract.ts";
import { makeTaskContext, type TestTaskContext } from "../helpers/task-context.ts";
import { buildTinyWhisper } from "../fixtures/whisper/tiny-whisper.ts";
import { buildAudio, type BuiltAudio } from "../fixtures/whisper/audio.ts";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "speech-it-"));
const modelsDir = path.join(root, "models");
const spec = (id: string): ModelSpec => manifest.models.find((m) => m.id === id)!;
const ictx = (gpu_index: number | null = null): PluginInitContext => ({ logger: silentLogger, modelsDir, config: {}, gpus: [], gpu_index });
let handle: WhisperHandle;
let speechAudio: BuiltAudio;
let longSilence: BuiltAudio;
let short: BuiltAudio;

beforeAll(async () => {
  buildTinyWhisper(modelsDir, "whisper-tiny", { detectLanguage: "fr" });
  handle = (await plugin.load!(spec("whisper-tiny"), ictx())) as WhisperHandle;
  speechAudio = await buildAudio(path.join(root, "audio"), "speech.wav", [
    { silence: 2 },
    { speech: "The quick brown fox jumps over the lazy dog" },
    { music: 4 },
    { speech: "Please transcribe this second sentence for the test" },
    { music: 30 },
    { speech: "Goodbye and thank you very much for listening to this test" },
    { silence: 1 },
  ]);
  short = await buildAudio(path.join(root, "audio"), "short.wav", [{ silence: 0.5 }, { speech: "Hello world and goodbye" }, { silence: 0.5 }]);
  // 65 s of music: fixed windows [0,30] [28,58] [56,65].
  longSilence = await buildAudio(path.join(root, "audio"), "long.wav", [{ music: 65, seed: 2 }]);
});
afterAll(async () => {
  await plugin.unload!(spec("whisper-tiny"), handle);
  fs.rmSync(root, { recursive: true, force: true });
});

async function run(params: Record<string, unknown>, file: string, ctx: TestTaskContext = makeTaskContext({ modelsDir, model: handle })) {
  await ctx.artifacts.putFile("inputs/a.wav", file);
  const out = await plugin.run(
    { job_id: "job-1", type: "audio.transcribe", params: { audio_path: "inputs/a.wav", ...params }, model: "whisper-tiny", attempt: 1 },
    ctx,
  );
  return { out, ctx };
}

test("VAD windows: regions within 30 s share a window, a far region gets its own; segments in the file's timeline", async () => {
  const { out, ctx } = await run({ language: "en" }, speechAudio.file);
  const segs = out.segments as { start: number; end: number; text: string; words: unknown[] }[];
  assert.equal(out.language, "en");
  assert.equal(out.duration, Math.round(speechAudio.duration * 1000) / 1000);
  // Sentences 1 and 2 (4 s of music apart) merge into one window; sentence 3 comes 30 s of
  // music later, so it opens a second window. The stand-in says the same two segments per
  // window, in window time, so each window's start shows up as its first segment's start.
  assert.equal(segs.length, 4, JSON.stringify(segs));
  for (const [k, truth] of [
    [0, speechAudio.speech[0]!],
    [2, speechAudio.speech[2]!],
  ] as const) {
    const w = segs[k]!.start;
    assert.ok(Math.abs(w - truth.start) < 0.15, `window starts at the speech (${w} vs ${truth.start})`);
    assert.deepEqual(
      segs.slice(k, k + 2).map((s) => [Math.round((s.start - w) * 1000) / 1000, Math.round((s.end - w) * 1000) / 1000, s.text]),
      [
        [0, 1, "Hello world."],
        [1.2, 2, "Goodbye!"],
      ],
    );
  }
  assert.deepEqual(segs[0]!.words, []);
  assert.equal(out.text, "Hello world. Goodbye! Hello world. Goodbye!");
  assert.ok(
    ctx.progressLog.some((p) => /Transcribed window 2\/2/.test(p.message ?? "")),
    JSON.stringify(ctx.progressLog),
  );
  ctx.cleanup();
});

test("fixed 30 s windows with 2 s overlap: a segment inside an overlap is reported once", async () => {
  const { out, ctx } = await run({ language: "en", vad: false }, longSilence.file);
  const segs = (out.segments as { start: number; end: number; text: string }[]).map((s) => [s.start, s.end, s.text]);
  assert.deepEqual(segs, [
    [0, 1, "Hello world."],
    [1.2, 2, "Goodbye!"],
    // window 2 starts at 28: its [28,29] segment lies in window 1's half of the overlap
    [29.2, 30, "Goodbye!"],
    // window 3 starts at 56 (hop 28)
    [57.2, 58, "Goodbye!"],
  ]);
  assert.equal(ctx.progressLog.filter((p) => /Transcribed window/.test(p.message ?? "")).length, 3);
  ctx.cleanup();
});

test("word timestamps come from the decoder's cross-attention (DTW) in the file's timeline", async () => {
  const { out, ctx } = await run({ language: "en", vad: false, word_timestamps: true }, speechAudio.file);
  const segs = out.segments as { start: number; end: number; words: { word: string; start: number; end: number }[] }[];
  assert.deepEqual(segs[0]!.words, [
    { word: "Hello", start: 0.2, end: 0.6 },
    { word: "world.", start: 0.6, end: 1.0 },
  ]);
  assert.deepEqual(segs[1]!.words, [{ word: "Goodbye!", start: 1.3, end: 2.0 }]);
  ctx.cleanup();
});

test("an export without alignment heads: word timestamps are a MODEL_ERROR saying what is missing; segments still work", async () => {
  buildTinyWhisper(modelsDir, "whisper-base", { noAlignmentHeads: true });
  const base = (await plugin.load!(spec("whisper-base"), ictx())) as WhisperHandle;
  try {
    const ctx = makeTaskContext({ modelsDir, model: base });
    await ctx.artifacts.putFile("inputs/a.wav", short.file);
    const job = (params: Record<string, unknown>) =>
      plugin.run(
        {
          job_id: "j",
          type: "audio.transcribe",
          params: { audio_path: "inputs/a.wav", language: "en", vad: false, ...params },
          model: "whisper-base",
          attempt: 1,
        },
        ctx,
      );
    await assert.rejects(job({ word_timestamps: true }), (err: unknown) => {
      assert.ok(err instanceof FarmError);
      assert.equal(err.code, "MODEL_ERROR");
      assert.match(err.message, /alignment_heads in generation_config\.json/);
      return true;
    });
    assert.equal((await job({})).text, "Hello world. Goodbye!");
    ctx.cleanup();
  } finally {
    await plugin.unload!(spec("whisper-base"), base);
  }
});

test("language is detected when not forced (the stand-in predicts <|fr|>)", async () => {
  const { out, ctx } = await run({ vad: false }, speechAudio.file);
  assert.equal(out.language, "fr");
  ctx.cleanup();
});

test("formats srt and vtt are written to the artifact store", async () => {
  const { out, ctx } = await run({ language: "en", vad: false, formats: ["srt", "vtt"] }, short.file);
  assert.equal(out.srt_url, "/outputs/transcripts/transcript-job-1.srt");
  assert.equal(out.vtt_url, "/outputs/transcripts/transcript-job-1.vtt");
  const read = async (key: string) => {
    const chunks: Buffer[] = [];
    for await (const c of await ctx.artifacts.get(key)) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  };
  assert.equal(
    await read("outputs/transcripts/transcript-job-1.srt"),
    "1\n00:00:00,000 --> 00:00:01,000\nHello world.\n\n2\n00:00:01,200 --> 00:00:02,000\nGoodbye!\n",
  );
  assert.equal(
    await read("outputs/transcripts/transcript-job-1.vtt"),
    "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nHello world.\n\n00:00:01.200 --> 00:00:02.000\nGoodbye!\n",
  );
  ctx.cleanup();
});

test("cancel between windows: JOB_CANCELLED after the first window", async () => {
  const ctx = makeTaskContext({ modelsDir, model: handle });
  const origProgress = ctx.progress;
  ctx.progress = (pct, msg) => {
    origProgress(pct, msg);
    if (/Transcribed window 1\//.test(msg ?? "")) ctx.abort();
  };
  await assert.rejects(run({ language: "en", vad: false }, longSilence.file, ctx), (err: unknown) => {
    assert.ok(err instanceof FarmError);
    assert.equal(err.code, "JOB_CANCELLED");
    assert.match(err.message, /after 1\/3 windows/);
    return true;
  });
  ctx.cleanup();
});

test("bad params are 4xx naming the field", async () => {
  for (const [params, field] of [
    [{ language: "english" }, "language"],
    [{ formats: ["txt"] }, "formats.0"], // the bad element of the list
    [{ word_timestamps: "yes" }, "word_timestamps"],
    [{ language: "xx" }, "language"],
  ] as const) {
    await assert.rejects(run(params, speechAudio.file), (err: unknown) => {
      assert.ok(err instanceof FarmError, String(err));
      assert.equal(err.code, "VALIDATION_ERROR");
      assert.equal((err.details as { field?: string }).field, field);
      return true;
    });
  }
});

test("missing files: load fails with MODEL_ERROR naming them; a GPU index without the CUDA provider falls back to CPU", async () => {
  await assert.rejects(plugin.load!(spec("whisper-small"), ictx()), (err: unknown) => {
    assert.ok(err instanceof FarmError);
    assert.equal(err.code, "MODEL_ERROR");
    assert.match(
      err.message,
      /config\.json, generation_config\.json, preprocessor_config\.json, tokenizer\.json, tokenizer_config\.json, onnx\/encoder_model\.onnx, onnx\/decoder_model_merged\.onnx/,
    );
    return true;
  });
  const h = (await plugin.load!(spec("whisper-tiny"), ictx(0))) as WhisperHandle;
  assert.equal(h.device, "cpu");
  await plugin.unload!(spec("whisper-tiny"), h);
  assert.equal(h.disposed, true);
});
