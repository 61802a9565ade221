/**
 * The musicgen plugin's manifest: MusicGen text-to-music on onnxruntime through
 * @huggingface/transformers, one model per ONNX export folder under paths.models.
 *
 * Files per model (the layout of the Xenova/musicgen-small export, which is what
 * transformers.js' MusicgenForConditionalGeneration loads): configs and tokenizer at the
 * folder root, the three sessions under onnx/. A model is advertised only when every file
 * exists (node-agent/plugin-loader.ts checks `files`).
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

/** Files every export needs, relative to the model's folder. */
export const EXPORT_FILES = [
  "config.json",
  "generation_config.json",
  "tokenizer.json",
  "tokenizer_config.json",
  "onnx/text_encoder.onnx",
  "onnx/decoder_model_merged.onnx",
  "onnx/encodec_decode.onnx",
] as const;

/** Where a model's export lives, relative to paths.models. */
export const modelFolder = (id: string) => `musicgen/${id}`;

export interface MusicgenModelInfo {
  id: string;
  /** The export to put in the folder (what the README tells operators). */
  source: string;
  vram_mb: number;
  /** Extra files beyond EXPORT_FILES (external weights of exports over 2 GB). */
  extra: string[];
  description: string;
}

/**
 * VRAM figures. medium: Meta's audiocraft docs (docs/MUSICGEN.md) "requires a GPU with at
 * least 16 GB of memory for running inference with the medium-sized models (~1.5B
 * parameters)". small: 300M-parameter decoder + T5-base text encoder (~110M) + EnCodec:
 * ~1.7 GB of fp32 weights, doubled for the classifier-free-guidance batch's activations and
 * the key/value cache over a 30 s window; the same rule gives medium ~13 GB, under Meta's 16.
 */
export const MUSICGEN_MODELS: readonly MusicgenModelInfo[] = [
  {
    id: "musicgen-small",
    source: "Xenova/musicgen-small (fp32 ONNX export of facebook/musicgen-small)",
    vram_mb: 4096,
    extra: [],
    description: "MusicGen small (300M) text-to-music, 32 kHz mono",
  },
  {
    id: "musicgen-medium",
    source: "an ONNX export of facebook/musicgen-medium in the same layout (optimum text-to-audio export); its decoder is over 2 GB, so its weights sit in onnx/decoder_model_merged.onnx_data",
    vram_mb: 16384,
    extra: ["onnx/decoder_model_merged.onnx_data"],
    description: "MusicGen medium (1.5B) text-to-music, 32 kHz mono",
  },
];

export const DEFAULT_MUSIC_MODEL = "musicgen-medium";
export const MUSIC_MODEL_IDS = MUSICGEN_MODELS.map((m) => m.id);

export const LICENSE_NOTE = "MusicGen weights are CC-BY-NC 4.0 (non-commercial); operators supply them";

export function modelFiles(m: MusicgenModelInfo): string[] {
  return [...EXPORT_FILES, ...m.extra].map((f) => `${modelFolder(m.id)}/${f}`);
}

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
    description: `${m.description}; export: ${m.source}`,
    license: LICENSE_NOTE,
  })),
};
