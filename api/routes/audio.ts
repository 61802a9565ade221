/** 4. Audio: /audio/analyze, /audio/detect-beats (CPU analysis plugin), /audio/transcribe (Whisper nodes), /audio/vad (speech plugin). */
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ApiDeps } from "../deps.ts";
import { withMissingModelFiles } from "../missing-model.ts";
import { registerJobRoute } from "../job-route.ts";
import { mediaKey } from "../media.ts";
import { mediaRef } from "../schemas/common.ts";
import { DEFAULT_WHISPER, WHISPER_FILES, WHISPER_IDS, WHISPER_MODELS, whisperFolder } from "../../plugins/speech/manifest.ts";
import { FarmError } from "../../core/errors.ts";

const audioPath = mediaRef("Audio (mp3, wav, flac, ogg/opus, m4a, or a video's audio): upload/artifact reference, base64/data URL, or allowed path/URL");

const analysisResponse = {
  type: "object",
  additionalProperties: true,
  properties: {
    job_id: { type: "string" },
    bpm: { type: ["number", "null"] },
    bpm_alternative: { type: ["number", "null"], description: "The other metrical level (about half or double bpm), for a client's half/double choice" },
    tempo_confidence: { type: "number", minimum: 0, maximum: 1 },
    beat_confidence: { type: "number", minimum: 0, maximum: 1 },
    time_signature: { type: ["string", "null"], description: "e.g. 4/4, 3/4, 6/8, 12/8" },
    meter_confidence: { type: "number", minimum: 0, maximum: 1 },
    downbeat_confidence: { type: "number", minimum: 0, maximum: 1 },
    key_confidence: { type: "number", minimum: 0, maximum: 1 },
    beats: { type: "array", items: { type: "number" } },
    downbeats: { type: "array", items: { type: "number" } },
    segments: { type: "array", items: { type: "object", properties: { start: { type: "number" }, end: { type: "number" }, type: { type: "string" } } } },
    key: { type: ["string", "null"] },
    duration: { type: "number" },
    warnings: { type: "array", items: { type: "string" }, description: "Present when the file decoded to less audio than it declares (truncated or corrupt): how much was decoded" },
  },
} as const;

export async function audioRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const withAudio = async (b: Record<string, unknown>, req: FastifyRequest) => ({ ...b, audio_path: await mediaKey(deps, b.audio_path, "audio_path", "audio", req) });
  const toResponse = (job: { id: string; result?: Record<string, unknown> | null }) => ({ job_id: job.id, ...(job.result ?? {}) });

  registerJobRoute<Record<string, unknown>>(app, deps, {
    url: "/api/v1/audio/analyze",
    jobType: "audio.analyze",
    tags: ["audio"],
    summary: "Tempo, beats, downbeats, key, time signature, sections and energy of a song",
    body: {
      type: "object",
      required: ["audio_path"],
      additionalProperties: false,
      properties: { audio_path: audioPath, analysis_type: { type: "string", enum: ["full", "beats", "tempo", "key", "structure"], default: "full" } },
    },
    response: analysisResponse,
    toParams: withAudio,
    toResponse,
  });
  registerJobRoute<Record<string, unknown>>(app, deps, {
    url: "/api/v1/audio/detect-beats",
    jobType: "audio.detect_beats",
    tags: ["audio"],
    summary: "Quick beat detection (bpm, beats, downbeats)",
    body: { type: "object", required: ["audio_path"], additionalProperties: false, properties: { audio_path: audioPath } },
    response: analysisResponse,
    toParams: withAudio,
    toResponse,
  });
  registerJobRoute<Record<string, unknown>>(app, withMissingModelFiles(deps, explainWhisper), {
    url: "/api/v1/audio/transcribe",
    jobType: "audio.transcribe",
    tags: ["audio"],
    summary: "Transcribe speech or lyrics with Whisper (needs a node with Whisper weights)",
    body: {
      type: "object",
      required: ["audio_path"],
      additionalProperties: false,
      properties: {
        audio_path: audioPath,
        model: { type: "string", enum: [...WHISPER_IDS], default: DEFAULT_WHISPER },
        language: { type: "string", minLength: 2, maxLength: 8, pattern: "^[a-z]{2,3}$", description: "Whisper language code; detected from the first speech window when absent" },
        word_timestamps: { type: "boolean", default: false },
        // Extensions (README "Speech models"): subtitle files, Whisper's translate task, VAD windowing switch.
        formats: { type: "array", items: { type: "string", enum: ["srt", "vtt"] }, maxItems: 2, uniqueItems: true, description: "Subtitle files to write: srt -> srt_url, vtt -> vtt_url" },
        task: { type: "string", enum: ["transcribe", "translate"], default: "transcribe" },
        vad: { type: "boolean", default: true, description: "Window by Silero VAD speech regions (true) or fixed 30 s windows with 2 s overlap (false)" },
      },
    },
    response: {
      type: "object",
      additionalProperties: true,
      properties: {
        job_id: { type: "string" },
        text: { type: "string" },
        segments: {
          type: "array",
          items: {
            type: "object",
            additionalProperties: true,
            properties: {
              start: { type: "number" }, end: { type: "number" }, text: { type: "string" },
              words: { type: "array", items: { type: "object", properties: { word: { type: "string" }, start: { type: "number" }, end: { type: "number" } } } },
            },
          },
        },
        language: { type: "string" },
        duration: { type: "number" },
        model: { type: "string" },
        srt_url: { type: "string" },
        vtt_url: { type: "string" },
      },
    },
    toParams: withAudio,
    toResponse,
  });
  // Extension (README): speech regions, e.g. to duck music under voice in assembly.
  registerJobRoute<Record<string, unknown>>(app, deps, {
    url: "/api/v1/audio/vad",
    jobType: "audio.vad",
    tags: ["audio"],
    summary: "Speech regions of an audio file (Silero VAD)",
    body: {
      type: "object",
      required: ["audio_path"],
      additionalProperties: false,
      properties: {
        audio_path: audioPath,
        threshold: { type: "number", minimum: 0.05, maximum: 0.95, default: 0.5, description: "Speech starts at this frame probability" },
        min_silence_ms: { type: "integer", minimum: 0, maximum: 10000, default: 100, description: "Silence this long ends a region" },
        min_speech_ms: { type: "integer", minimum: 0, maximum: 10000, default: 250, description: "Shorter regions are dropped" },
        pad_ms: { type: "integer", minimum: 0, maximum: 2000, default: 30, description: "Padding on both sides of a region" },
      },
    },
    response: {
      type: "object",
      additionalProperties: true,
      properties: {
        job_id: { type: "string" },
        regions: { type: "array", items: { type: "object", properties: { start: { type: "number" }, end: { type: "number" } } } },
        duration: { type: "number" },
      },
    },
    toParams: withAudio,
    toResponse,
  });
}

/**
 * When no node offers the Whisper model, the 503 also names the files that model needs under
 * paths.models. Only when the model itself is what no node offers (not e.g. "no GPU free").
 */
function explainWhisper(err: FarmError, params: Record<string, unknown>): FarmError | null {
  if (err.details?.field !== "params.model") return null;
  const id = typeof params.model === "string" ? params.model : DEFAULT_WHISPER;
  const info = WHISPER_MODELS.find((m) => m.id === id);
  if (!info) return null;
  const files = WHISPER_FILES.map((f) => `${whisperFolder(id)}/${f}`);
  return new FarmError("CAPABILITY_UNAVAILABLE", `${err.message}. Whisper '${id}' runs on a node whose paths.models holds: ${files.join(", ")} (export: ${info.source})`, {
    ...(err.details ?? {}), model: id, expected_files: files,
  });
}
