/**
 * Through the front door on an embedded farm whose agent loads the speech plugin:
 * /audio/transcribe answers 503 naming the missing Whisper files while no model is installed,
 * then the spec's shape once the (tiny stand-in) export is in place; /audio/vad answers
 * regions; bad bodies are 400 naming the field.
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startEmbeddedFarm, type TestFarm } from "../helpers/embedded-farm.ts";
import { http } from "../helpers/http.ts";
import { buildTinyWhisper } from "../fixtures/whisper/tiny-whisper.ts";
import { buildAudio, type BuiltAudio } from "../fixtures/whisper/audio.ts";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "speech-api-"));
const modelsDir = path.join(root, "models");
let farm: TestFarm;
let audio: BuiltAudio;
let wavDataUrl: string;

beforeAll(async () => {
  fs.mkdirSync(modelsDir, { recursive: true });
  audio = await buildAudio(path.join(root, "audio"), "a.wav", [{ silence: 1 }, { speech: "The quick brown fox jumps over the lazy dog" }, { music: 3 }]);
  wavDataUrl = `data:audio/wav;base64,${fs.readFileSync(audio.file).toString("base64")}`;
  farm = await startEmbeddedFarm({ paths: { models: modelsDir }, agent: { plugins: ["speech"] } });
});
afterAll(async () => {
  await farm?.destroy();
  fs.rmSync(root, { recursive: true, force: true });
});

test("503 CAPABILITY_UNAVAILABLE while no node has the Whisper files, naming them", async () => {
  const r = await http(farm.url, "POST", "/api/v1/audio/transcribe", { audio_path: wavDataUrl, model: "whisper-small" });
  assert.equal(r.status, 503, JSON.stringify(r.body));
  assert.equal(r.body.code, "CAPABILITY_UNAVAILABLE");
  const all = JSON.stringify(r.body);
  assert.match(all, /whisper-small/);
  assert.match(all, /whisper\/whisper-small\/onnx\/encoder_model\.onnx/);
});

test("400 naming the field for bad bodies", async () => {
  for (const [body, field] of [
    [{ audio_path: wavDataUrl, formats: ["txt"] }, "formats"],
    [{ audio_path: wavDataUrl, model: "whisper-huge" }, "model"],
    [{}, "audio_path"],
  ] as const) {
    const r = await http(farm.url, "POST", "/api/v1/audio/transcribe", body);
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.match(JSON.stringify(r.body), new RegExp(field));
  }
  const v = await http(farm.url, "POST", "/api/v1/audio/vad", { audio_path: wavDataUrl, threshold: 3 });
  assert.equal(v.status, 400);
  assert.match(JSON.stringify(v.body), /threshold/);
});

test("/audio/vad answers speech regions", async () => {
  const r = await http(farm.url, "POST", "/api/v1/audio/vad", { audio_path: wavDataUrl });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const regions = r.body.regions as { start: number; end: number }[];
  assert.equal(regions.length, 1);
  assert.ok(Math.abs(regions[0]!.start - audio.speech[0]!.start) <= 0.15);
  assert.ok(Math.abs(regions[0]!.end - audio.speech[0]!.end) <= 0.15);
  assert.equal(r.body.duration, Math.round(audio.duration * 1000) / 1000);
});

test("with the export installed, the default model answers the spec's shape with SRT/VTT urls", async () => {
  // The agent checks model files when it starts: install the export, then restart the farm.
  await farm.destroy();
  buildTinyWhisper(modelsDir, "whisper-large-v3");
  // A simulated GPU, so the GPU path is walked: the agent's load on that GPU falls back to
  // onnxruntime's CPU provider here (no CUDA build installed). The CPU-only farm is below.
  farm = await startEmbeddedFarm({
    paths: { models: modelsDir },
    agent: { plugins: ["speech"], gpu_probe: "simulated", simulated_gpus: [{ name: "Sim 20GB", vram_mb: 20000 }] },
  });
  const r = await http(farm.url, "POST", "/api/v1/audio/transcribe", {
    audio_path: wavDataUrl,
    language: "en",
    word_timestamps: true,
    formats: ["srt", "vtt"],
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const b = r.body;
  assert.equal(b.text, "Hello world. Goodbye!");
  assert.equal(b.language, "en");
  assert.equal(b.model, "whisper-large-v3");
  const segs = b.segments as { start: number; end: number; text: string; words: { word: string; start: number; end: number }[] }[];
  assert.deepEqual(Object.keys(segs[0]!).sort(), ["end", "start", "text", "words"]);
  const w0 = segs[0]!.start;
  assert.ok(Math.abs(w0 - audio.speech[0]!.start) <= 0.15);
  assert.deepEqual(
    segs[0]!.words.map((w) => [w.word, Math.round((w.start - w0) * 100) / 100, Math.round((w.end - w0) * 100) / 100]),
    [
      ["Hello", 0.2, 0.6],
      ["world.", 0.6, 1],
    ],
  );
  const srt = await fetch(farm.url + String(b.srt_url));
  assert.equal(srt.status, 200);
  assert.match(await srt.text(), /^1\n00:00:0\d,\d{3} --> 00:00:0\d,\d{3}\nHello world\.\n/);
  const vtt = await fetch(farm.url + String(b.vtt_url));
  assert.match(await vtt.text(), /^WEBVTT\n\n/);
});

test("a farm without any GPU runs Whisper on CPU (cpu_fallback), instead of answering 503", async () => {
  await farm.destroy();
  farm = await startEmbeddedFarm({ paths: { models: modelsDir }, agent: { plugins: ["speech"] } });
  const r = await http(farm.url, "POST", "/api/v1/audio/transcribe", { audio_path: wavDataUrl, language: "en" });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.text, "Hello world. Goodbye!");
  const job = await http(farm.url, "GET", `/api/v1/jobs/${String(r.body.job_id)}/why`);
  assert.match(JSON.stringify(job.body.decision ?? job.body), /placed/);
});
