/** The musicgen plugin's models come from models/musicgen.yaml; the loader relies on its layout. */
import { test } from "vitest";
import assert from "node:assert/strict";
import { manifest, modelFolder, MUSICGEN_MODELS } from "../../plugins/musicgen/manifest.ts";

const EXPORT = [
  "config.json",
  "generation_config.json",
  "tokenizer.json",
  "tokenizer_config.json",
  "onnx/text_encoder.onnx",
  "onnx/decoder_model_merged.onnx",
  "onnx/encodec_decode.onnx",
];

test("catalog: small and medium (not melody), every export file under musicgen/<id>/, VRAM with a source", () => {
  assert.deepEqual(
    MUSICGEN_MODELS.map((m) => m.id),
    ["musicgen-small", "musicgen-medium"],
  );
  for (const m of MUSICGEN_MODELS) {
    for (const f of EXPORT) assert.ok(m.files.includes(`${modelFolder(m.id)}/${f}`), `${m.id} lists ${f}`);
    for (const f of m.files) assert.ok(f.startsWith(`${modelFolder(m.id)}/`), f);
    assert.ok(m.vram_mb > 0 && m.vram_source.length > 20);
    assert.match(m.license, /CC-BY-NC 4\.0/);
  }
  assert.equal(MUSICGEN_MODELS.find((m) => m.id === "musicgen-medium")!.vram_mb, 16384);
  assert.ok(MUSICGEN_MODELS.find((m) => m.id === "musicgen-medium")!.files.includes("musicgen/musicgen-medium/onnx/decoder_model_merged.onnx_data"));
  const jt = manifest.job_types[0]!;
  assert.equal(jt.type, "music.generate");
  assert.equal(jt.default_model, "musicgen-medium");
  assert.deepEqual(
    manifest.models.map((m) => m.files),
    MUSICGEN_MODELS.map((m) => m.files),
  );
});
