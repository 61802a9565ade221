/**
 * POST /api/v1/musicgen/generate through an embedded farm whose agent has the tiny stand-in
 * MusicGen exports (test/fixtures/musicgen) for musicgen-small and musicgen-medium, on one
 * simulated 20,000 MiB GPU: small (4,096) and medium (16,384) do not fit together, so a
 * medium job evicts the idle small model (the agent's LRU calls the plugin's unload). The
 * onnxruntime here is the CPU build, so the CUDA request falls back to CPU and says so.
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startEmbeddedFarm, type TestFarm } from "../helpers/embedded-farm.ts";
import { http } from "../helpers/http.ts";
import { buildTinyMusicgen } from "../fixtures/musicgen/tiny-musicgen.ts";

let modelsDir: string;
let farm: TestFarm;
beforeAll(async () => {
  modelsDir = fs.mkdtempSync(path.join(os.tmpdir(), "nb-musicgen-api-"));
  buildTinyMusicgen(modelsDir, "musicgen-small");
  const medium = buildTinyMusicgen(modelsDir, "musicgen-medium");
  // The real medium decoder keeps its weights in external data; the tiny one has none, this
  // file only satisfies the manifest's file check.
  fs.writeFileSync(path.join(medium, "onnx/decoder_model_merged.onnx_data"), "");
  farm = await startEmbeddedFarm({
    paths: { models: modelsDir },
    agent: { plugins: ["musicgen"], gpu_probe: "simulated", simulated_gpus: [{ name: "Sim 20GB", vram_mb: 20000 }] },
    plugins: { musicgen: { window_s: 2, context_s: 0.5 } },
  });
});
afterAll(async () => {
  await farm?.destroy();
  fs.rmSync(modelsDir, { recursive: true, force: true });
});

async function residentModels(): Promise<string[]> {
  const res = await http<{ nodes: { report?: { resident?: { model_id: string }[] } }[] }>(farm.url, "GET", "/api/v1/farm/nodes");
  return res.body.nodes.flatMap((n) => (n.report?.resident ?? []).map((r) => r.model_id)).sort();
}

async function eventually(fn: () => Promise<boolean>, ms = 30_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await fn()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

test("musicgen/generate answers the spec's shape; the files are served; a long piece continues over windows", async () => {
  const res = await http(farm.url, "POST", "/api/v1/musicgen/generate", { prompt: "high ambient music", model: "musicgen-small", duration: 4.5, seed: 11 });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const b = res.body;
  assert.equal(typeof b.job_id, "string");
  assert.equal(b.status, "completed");
  assert.equal(b.model, "musicgen-small");
  assert.equal(b.seed, 11);
  assert.equal(b.sample_rate, 32000);
  assert.equal(b.duration, 4.5);
  assert.equal(b.device, "cpu");
  assert.equal(b.windows, 3); // 2 s windows, 0.5 s context: 100 + 75 + 50 frames
  assert.match(String(b.audio_url), /^\/outputs\/music\/musicgen-.+\.mp3$/);
  const mp3 = await fetch(farm.url + String(b.audio_url));
  assert.equal(mp3.status, 200);
  assert.equal(mp3.headers.get("content-type"), "audio/mpeg");
  const wav = Buffer.from(await (await fetch(farm.url + String(b.wav_url))).arrayBuffer());
  assert.equal(wav.subarray(0, 4).toString(), "RIFF");
  assert.equal(wav.readUInt32LE(24), 32000); // fmt chunk: sample rate
  assert.equal(wav.readUInt16LE(22), 1); // mono
  // 16-bit PCM: the data chunk holds exactly 4.5 s of samples.
  const data = wav.indexOf("data", 36);
  assert.equal(wav.readUInt32LE(data + 4), 4.5 * 32000 * 2);
  assert.ok(await eventually(async () => JSON.stringify(await residentModels()) === JSON.stringify(["musicgen-small"])), `resident: ${await residentModels()}`);
});

test("a medium job evicts the idle small model from the simulated GPU (LRU -> unload)", async () => {
  const res = await http(farm.url, "POST", "/api/v1/musicgen/generate", { prompt: "low", model: "musicgen-medium", duration: 0.5 });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.model, "musicgen-medium");
  assert.ok(Number.isInteger(res.body.seed), "a drawn seed is reported");
  assert.ok(
    await eventually(async () => JSON.stringify(await residentModels()) === JSON.stringify(["musicgen-medium"])),
    `resident: ${await residentModels()}`,
  );
});

test("bad input is a 400 naming the field", async () => {
  const t = await http(farm.url, "POST", "/api/v1/musicgen/generate", { prompt: "low", temperature: 0 });
  assert.equal(t.status, 400);
  assert.equal(t.body.code, "VALIDATION_ERROR");
  assert.match(JSON.stringify(t.body), /temperature/);
  const m = await http(farm.url, "POST", "/api/v1/musicgen/generate", { prompt: "low", model: "musicgen-melody" });
  assert.equal(m.status, 400);
  assert.match(JSON.stringify(m.body), /model/);
  const p = await http(farm.url, "POST", "/api/v1/musicgen/generate", { duration: 5 });
  assert.equal(p.status, 400);
  assert.match(JSON.stringify(p.body), /prompt/);
});

test("no node with the weights: 503 CAPABILITY_UNAVAILABLE naming the model's files", async () => {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), "nb-musicgen-none-"));
  const bare = await startEmbeddedFarm({ paths: { models: empty }, agent: { plugins: ["musicgen"] } });
  try {
    const res = await http(bare.url, "POST", "/api/v1/musicgen/generate", { prompt: "calm ambient music for studying" });
    assert.equal(res.status, 503, JSON.stringify(res.body));
    assert.equal(res.body.code, "CAPABILITY_UNAVAILABLE");
    const msg = String(res.body.message);
    for (const f of [
      "musicgen/musicgen-medium/onnx/decoder_model_merged.onnx",
      "musicgen/musicgen-medium/tokenizer.json",
      "musicgen/musicgen-medium/onnx/encodec_decode.onnx",
    ])
      assert.ok(msg.includes(f), msg);
    assert.match(msg, /CC-BY-NC/);
  } finally {
    await bare.destroy();
    fs.rmSync(empty, { recursive: true, force: true });
  }
});
