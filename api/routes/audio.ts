/** 4. Audio: /audio/analyze, /audio/detect-beats (CPU analysis plugin), /audio/transcribe (Whisper nodes), /audio/vad (speech plugin). */
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ApiDeps } from "../deps.ts";
import { withMissingModelFiles } from "../missing-model.ts";
import { registerJobRoute } from "../job-route.ts";
import { mediaKey } from "../media.ts";
import { mediaRef } from "../schemas/common.ts";
import { jobTypeBody } from "../job-type-body.ts";
import { AUDIO_ANALYZE, AUDIO_DETECT_BEATS } from "../../plugins/audio/job-types.ts";
import { AUDIO_TRANSCRIBE, AUDIO_VAD, DEFAULT_WHISPER, WHISPER_FILES, WHISPER_MODELS, whisperFolder } from "../../plugins/speech/job-types.ts";
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
    beat_tracker: {
      type: "string",
      enum: ["network", "dsp"],
      description: "What tracked the beats: the node's beat network (operator-supplied, see the README) or the onset envelope alone",
    },
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
    warnings: {
      type: "array",
      items: { type: "string" },
      description:
        "Present when the analysis could not do all it was asked: the file decoded to less audio than it declares (how much was decoded), or the node's beat network failed to load (beats tracked without it)",
    },
  },
} as const;

export async function audioRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const withAudio = async (b: Record<string, unknown>, req: FastifyRequest) => ({
    ...b,
    audio_path: await mediaKey(deps, b.audio_path, "audio_path", "audio", req),
  });
  const toResponse = (job: { id: string; result?: Record<string, unknown> | null }) => ({ job_id: job.id, ...(job.result ?? {}) });

  registerJobRoute<Record<string, unknown>>(app, deps, {
    url: "/api/v1/audio/analyze",
    jobType: AUDIO_ANALYZE.type,
    tags: ["audio"],
    summary: "Tempo, beats, downbeats, key, time signature, sections and energy of a song",
    body: jobTypeBody(AUDIO_ANALYZE, { fields: { audio_path: audioPath } }),
    response: analysisResponse,
    toParams: withAudio,
    toResponse,
  });
  registerJobRoute<Record<string, unknown>>(app, deps, {
    url: "/api/v1/audio/detect-beats",
    jobType: AUDIO_DETECT_BEATS.type,
    tags: ["audio"],
    summary: "Quick beat detection (bpm, beats, downbeats)",
    body: jobTypeBody(AUDIO_DETECT_BEATS, { fields: { audio_path: audioPath } }),
    response: analysisResponse,
    toParams: withAudio,
    toResponse,
  });
  registerJobRoute<Record<string, unknown>>(app, withMissingModelFiles(deps, explainWhisper), {
    url: "/api/v1/audio/transcribe",
    jobType: AUDIO_TRANSCRIBE.type,
    tags: ["audio"],
    summary: "Transcribe speech or lyrics with Whisper (needs a node with Whisper weights)",
    body: jobTypeBody(AUDIO_TRANSCRIBE, { fields: { audio_path: audioPath } }),
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
              start: { type: "number" },
              end: { type: "number" },
              text: { type: "string" },
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
    jobType: AUDIO_VAD.type,
    tags: ["audio"],
    summary: "Speech regions of an audio file (Silero VAD)",
    body: jobTypeBody(AUDIO_VAD, { fields: { audio_path: audioPath }, noModel: true }),
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
  return new FarmError(
    "CAPABILITY_UNAVAILABLE",
    `${err.message}. Whisper '${id}' runs on a node whose paths.models holds: ${files.join(", ")} (export: ${info.source})`,
    {
      ...(err.details ?? {}),
      model: id,
      expected_files: files,
    },
  );
}
