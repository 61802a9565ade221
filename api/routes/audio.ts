/** 4. Audio: /audio/analyze, /audio/detect-beats (CPU analysis plugin), /audio/transcribe (Whisper nodes). */
import type { FastifyInstance } from "fastify";
import type { ApiDeps } from "../deps.ts";
import { registerJobRoute } from "../job-route.ts";
import { mediaKey } from "../media.ts";
import { mediaRef } from "../schemas/common.ts";

const audioPath = mediaRef("Audio (mp3, wav, flac, ogg/opus, m4a, or a video's audio): upload/artifact reference, base64/data URL, or allowed path/URL");

const analysisResponse = {
  type: "object",
  additionalProperties: true,
  properties: {
    job_id: { type: "string" },
    bpm: { type: ["number", "null"] },
    beats: { type: "array", items: { type: "number" } },
    downbeats: { type: "array", items: { type: "number" } },
    segments: { type: "array", items: { type: "object", properties: { start: { type: "number" }, end: { type: "number" }, type: { type: "string" } } } },
    key: { type: ["string", "null"] },
    duration: { type: "number" },
    warnings: { type: "array", items: { type: "string" }, description: "Present when the file decoded to less audio than it declares (truncated or corrupt): how much was decoded" },
  },
} as const;

export async function audioRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const withAudio = async (b: Record<string, unknown>) => ({ ...b, audio_path: await mediaKey(deps, b.audio_path, "audio_path", "audio") });
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
  registerJobRoute<Record<string, unknown>>(app, deps, {
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
        model: { type: "string", enum: ["whisper-tiny", "whisper-small", "whisper-medium", "whisper-large-v3"], default: "whisper-large-v3" },
        language: { type: "string", minLength: 2, maxLength: 8, pattern: "^[a-z]{2,3}(-[A-Za-z]{2,4})?$" },
        word_timestamps: { type: "boolean", default: false },
      },
    },
    response: {
      type: "object",
      additionalProperties: true,
      properties: { job_id: { type: "string" }, text: { type: "string" }, segments: { type: "array", items: { type: "object", additionalProperties: true } }, language: { type: "string" }, duration: { type: "number" } },
    },
    toParams: withAudio,
    toResponse,
  });
}
