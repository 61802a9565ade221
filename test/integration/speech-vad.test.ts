/**
 * Silero VAD for real (the bundled v5 weights) on espeak-ng speech placed between silence and
 * music (chords) at known times: every speech span found within 150 ms, nothing found in pure
 * music or silence; the batched lanes agree with one sequential stream; the audio.vad job.
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import plugin from "../../plugins/speech/index.ts";
import { SileroVad, type SpeechRegion } from "../../plugins/speech/vad.ts";
import { FarmError } from "../../core/errors.ts";
import { makeTaskContext } from "../helpers/task-context.ts";
import { buildAudio, type BuiltAudio, type Piece } from "../fixtures/whisper/audio.ts";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "speech-vad-"));
let audio: BuiltAudio;
let long: BuiltAudio;
let vad: SileroVad;

const SENTENCES = [
  "The quick brown fox jumps over the lazy dog",
  "Please transcribe this second sentence for the test",
  "Voice activity detection finds speech between the music",
  "Goodbye and thank you very much",
];

beforeAll(async () => {
  vad = await SileroVad.load();
  audio = await buildAudio(root, "mix.wav", [
    { silence: 2 },
    { speech: SENTENCES[0]! },
    { music: 6 },
    { speech: SENTENCES[1]!, voice: "en-us" },
    { silence: 3 },
    { music: 5, seed: 3 },
    { speech: SENTENCES[2]! },
    { music: 4, seed: 4 },
    { speech: SENTENCES[3]! },
    { silence: 1.5 },
  ]);
  // ~2 minutes so the VAD runs several lanes, with speech straddling lane boundaries.
  const pieces: Piece[] = [];
  for (let i = 0; i < 12; i++) pieces.push({ music: 3 + (i % 3), seed: i }, { speech: SENTENCES[i % 4]! }, { silence: 1 + (i % 2) });
  long = await buildAudio(root, "long.wav", pieces);
});
afterAll(async () => {
  await vad.dispose();
  fs.rmSync(root, { recursive: true, force: true });
});

function assertMatchesTruth(regions: SpeechRegion[], truth: BuiltAudio): void {
  assert.equal(regions.length, truth.speech.length, `one region per sentence: ${JSON.stringify(regions)} vs ${JSON.stringify(truth.speech)}`);
  truth.speech.forEach((s, i) => {
    const r = regions[i]!;
    assert.ok(Math.abs(r.start - s.start) <= 0.15, `region ${i} start ${r.start} vs truth ${s.start.toFixed(3)}`);
    assert.ok(Math.abs(r.end - s.end) <= 0.15, `region ${i} end ${r.end} vs truth ${s.end.toFixed(3)}`);
  });
  // Nothing inside pure music or silence (beyond the 150 ms tolerance at the edges).
  for (const r of regions) {
    for (const m of truth.music) {
      const overlap = Math.min(r.end, m.end) - Math.max(r.start, m.start);
      assert.ok(overlap <= 0.15, `region ${JSON.stringify(r)} overlaps music ${JSON.stringify(m)} by ${overlap.toFixed(3)} s`);
    }
  }
}

test("every sentence found within 150 ms; no region in music or silence", async () => {
  assertMatchesTruth(await vad.detect(audio.samples), audio);
});

test("two minutes: batched lanes find what one sequential stream finds, and the truth", async () => {
  const batched = await vad.detect(long.samples);
  assertMatchesTruth(batched, long);
  const single = await SileroVad.load({ lanes: 1 });
  const sequential = await single.detect(long.samples);
  await single.dispose();
  assert.equal(batched.length, sequential.length);
  batched.forEach((r, i) => {
    assert.ok(
      Math.abs(r.start - sequential[i]!.start) <= 0.064 && Math.abs(r.end - sequential[i]!.end) <= 0.064,
      `${JSON.stringify(r)} vs ${JSON.stringify(sequential[i])}`,
    );
  });
});

test("audio.vad job: regions and duration; options change the result; bad options name the field", async () => {
  const ctx = makeTaskContext();
  await ctx.artifacts.putFile("inputs/mix.wav", audio.file);
  const out = await plugin.run({ job_id: "v1", type: "audio.vad", params: { audio_path: "inputs/mix.wav" }, attempt: 1 }, ctx);
  assert.equal(out.duration, Math.round(audio.duration * 1000) / 1000);
  assertMatchesTruth(out.regions as SpeechRegion[], audio);
  // A 2 s minimum speech length drops the short last sentence ("Goodbye and thank you very much", ~1.6 s).
  const longOnly = await plugin.run({ job_id: "v2", type: "audio.vad", params: { audio: "inputs/mix.wav", min_speech_ms: 2000 }, attempt: 1 }, ctx);
  const kept = audio.speech.filter((s) => s.end - s.start >= 2.0).length;
  assert.ok(kept < audio.speech.length, "the fixture has a sentence under 2 s");
  assert.equal((longOnly.regions as SpeechRegion[]).length, kept);
  await assert.rejects(
    plugin.run({ job_id: "v3", type: "audio.vad", params: { audio_path: "inputs/mix.wav", threshold: 2 }, attempt: 1 }, ctx),
    (err: unknown) => {
      assert.ok(err instanceof FarmError);
      assert.equal(err.code, "VALIDATION_ERROR");
      assert.equal((err.details as { field?: string }).field, "threshold");
      return true;
    },
  );
  await assert.rejects(plugin.run({ job_id: "v4", type: "audio.vad", params: { audio_path: "inputs/missing.wav" }, attempt: 1 }, ctx), /audio_path not found/);
  ctx.cleanup();
});
