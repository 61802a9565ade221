/**
 * audio.transcribe and audio.vad, defined once (core/job-types/define.ts): params schema,
 * models and default model. The manifest, the API routes (api/routes/audio.ts) and the
 * plugin's param parsing (params.ts) all read these. Pure data: no runtime imports, so the
 * API can load it without onnxruntime.
 *
 * Whisper files per model, relative to paths.models: whisper/<id>/ holding the
 * onnx-community export (see manifest.ts for the layout and the VRAM sources).
 */
import { Type } from "typebox";
import { defineJobType, StringEnum } from "../../core/job-types/define.ts";

export const WHISPER_FILES = [
  "config.json",
  "generation_config.json",
  "preprocessor_config.json",
  "tokenizer.json",
  "tokenizer_config.json",
  "onnx/encoder_model.onnx",
  "onnx/decoder_model_merged.onnx",
] as const;

export const whisperFolder = (id: string) => `whisper/${id}`;

export interface WhisperModelInfo {
  id: string;
  /** The export operators put in the folder. */
  source: string;
  vram_mb: number;
  description: string;
}

export const WHISPER_MODELS: readonly WhisperModelInfo[] = [
  {
    id: "whisper-large-v3",
    source: "onnx-community/whisper-large-v3 (ONNX export of openai/whisper-large-v3)",
    vram_mb: 12288,
    description: "Whisper large-v3 (1.55B), 99 languages, 128 mel bins",
  },
  {
    id: "whisper-large-v3-turbo",
    source: "onnx-community/whisper-large-v3-turbo",
    vram_mb: 6144,
    description: "Whisper large-v3-turbo (809M, 4 decoder layers)",
  },
  { id: "whisper-medium", source: "onnx-community/whisper-medium (or Xenova/whisper-medium)", vram_mb: 5120, description: "Whisper medium (769M)" },
  { id: "whisper-small", source: "onnx-community/whisper-small (or Xenova/whisper-small)", vram_mb: 2048, description: "Whisper small (244M)" },
  { id: "whisper-base", source: "onnx-community/whisper-base (or Xenova/whisper-base)", vram_mb: 1024, description: "Whisper base (74M)" },
  { id: "whisper-tiny", source: "onnx-community/whisper-tiny (or Xenova/whisper-tiny)", vram_mb: 1024, description: "Whisper tiny (39M)" },
];

export const DEFAULT_WHISPER = "whisper-large-v3";
export const VAD_MODEL = "silero-vad";
export const WHISPER_IDS = WHISPER_MODELS.map((m) => m.id);

/** An uploaded/resolved audio input: the artifact key the API's media resolution made. */
const audioKey = Type.String({ minLength: 1, description: "Artifact key of the audio (the API resolves uploads, data URLs, paths and URLs to one)" });

export const TranscribeParams = Type.Object({
  audio_path: audioKey,
  language: Type.Optional(
    Type.String({
      minLength: 2,
      maxLength: 8,
      pattern: "^[a-z]{2,3}$",
      description: "Whisper language code; detected from the first speech window when absent",
    }),
  ),
  word_timestamps: Type.Optional(Type.Boolean({ default: false })),
  // Extensions (README "Speech models"): subtitle files, Whisper's translate task, VAD windowing switch.
  formats: Type.Optional(
    Type.Array(StringEnum(["srt", "vtt"] as const), { maxItems: 2, uniqueItems: true, description: "Subtitle files to write: srt -> srt_url, vtt -> vtt_url" }),
  ),
  task: Type.Optional(StringEnum(["transcribe", "translate"] as const, { default: "transcribe" })),
  vad: Type.Optional(Type.Boolean({ default: true, description: "Window by Silero VAD speech regions (true) or fixed 30 s windows with 2 s overlap (false)" })),
});

export const VadParams = Type.Object({
  audio_path: audioKey,
  threshold: Type.Optional(Type.Number({ minimum: 0.05, maximum: 0.95, default: 0.5, description: "Speech starts at this frame probability" })),
  min_silence_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: 10000, default: 100, description: "Silence this long ends a region" })),
  min_speech_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: 10000, default: 250, description: "Shorter regions are dropped" })),
  pad_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: 2000, default: 30, description: "Padding on both sides of a region" })),
});

export const AUDIO_TRANSCRIBE = defineJobType({
  type: "audio.transcribe",
  description: "Speech to text with segment and word timestamps, SRT/VTT",
  models: WHISPER_IDS,
  default_model: DEFAULT_WHISPER,
  params: TranscribeParams,
});

export const AUDIO_VAD = defineJobType({
  type: "audio.vad",
  description: "Speech regions of an audio file (Silero VAD, CPU)",
  models: [VAD_MODEL],
  default_model: VAD_MODEL,
  params: VadParams,
});
