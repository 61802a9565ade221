/**
 * The musicgen plugin's manifest: MusicGen text-to-music on onnxruntime through
 * @huggingface/transformers, one model per ONNX export folder under paths.models.
 *
 * Files per model (models/musicgen.yaml; the layout of the Xenova/musicgen-small export,
 * which is what transformers.js' MusicgenForConditionalGeneration loads): configs and
 * tokenizer at the folder root, the three sessions under onnx/. A model is advertised only
 * when every file exists (node-agent/plugin-loader.ts checks `files`).
 *
 * Not offered:
 * - musicgen-melody: transformers.js 4.3.2 has no MusicgenMelody model class (its registry
 *   maps only model_type "musicgen"), and melody conditioning needs a chroma extractor and a
 *   different decoder input that no JS runtime implements; advertising it would mean a model
 *   that cannot run.
 * - musicgen-large: no published ONNX export we could verify the layout of; it would load the
 *   same way as medium if an operator exported one, but is not advertised untested.
 */
import type { ModelSpec, PluginManifest } from "../../core/plugin-contract.ts";
import { MUSIC_GENERATE, MUSICGEN_MODELS, modelFiles } from "./job-types.ts";

// The model catalog view and the job type live in job-types.ts (pure data the API reads too).
export { DEFAULT_MUSIC_MODEL, LICENSE_NOTE, modelFiles, modelFolder, MUSIC_MODEL_IDS, MUSICGEN_MODELS, type MusicgenModelInfo } from "./job-types.ts";

export const manifest: PluginManifest = {
  name: "musicgen",
  version: "1.0.0",
  description: "MusicGen text-to-music on onnxruntime (CUDA on GPU nodes, CPU elsewhere) via @huggingface/transformers",
  runtime: "onnx",
  job_types: [MUSIC_GENERATE],
  models: MUSICGEN_MODELS.map((m): ModelSpec => ({
    id: m.id,
    vram_mb: m.vram_mb,
    cpu_fallback: true,
    files: modelFiles(m),
    description: `${m.description} (${m.source})`,
    license: m.license,
  })),
};
