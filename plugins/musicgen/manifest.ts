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
import { catalogModels } from "../../models/catalog.ts";

/** Where a model's export lives, relative to paths.models (the catalog's files sit under it). */
export const modelFolder = (id: string) => `musicgen/${id}`;

export interface MusicgenModelInfo {
  id: string;
  /** Where the weights are published (the catalog's `source`). */
  source: string;
  vram_mb: number;
  /** Files relative to paths.models, all under modelFolder(id). */
  files: string[];
  license: string;
  vram_source: string;
  description: string;
}

/**
 * The models, from models/musicgen.yaml (the farm's model catalog: files, VRAM need with
 * its published source, licence). The catalog is the one place these numbers live.
 */
export const MUSICGEN_MODELS: readonly MusicgenModelInfo[] = catalogModels({ runtime: "onnx" })
  .filter((m) => m.job_types.includes("music.generate"))
  .map((m) => ({ id: m.id, source: m.source, vram_mb: m.vram_mb, files: m.files.map((f) => f.file), license: m.license, vram_source: m.vram_source, description: m.description ?? m.id }));

export const DEFAULT_MUSIC_MODEL = "musicgen-medium";
export const MUSIC_MODEL_IDS = MUSICGEN_MODELS.map((m) => m.id);

export const LICENSE_NOTE = "MusicGen weights are CC-BY-NC 4.0 (non-commercial); operators supply them";

export const modelFiles = (m: MusicgenModelInfo): string[] => [...m.files];

export const manifest: PluginManifest = {
  name: "musicgen",
  version: "1.0.0",
  description: "MusicGen text-to-music on onnxruntime (CUDA on GPU nodes, CPU elsewhere) via @huggingface/transformers",
  runtime: "onnx",
  job_types: [
    {
      type: "music.generate",
      description: "Music from a text prompt: 32 kHz mono, mp3 + wav under outputs/music/; longer than one 30 s window by continuation",
      models: [...MUSIC_MODEL_IDS],
      default_model: DEFAULT_MUSIC_MODEL,
    },
  ],
  models: MUSICGEN_MODELS.map((m): ModelSpec => ({
    id: m.id,
    vram_mb: m.vram_mb,
    cpu_fallback: true,
    files: modelFiles(m),
    description: `${m.description} (${m.source})`,
    license: m.license,
  })),
};
