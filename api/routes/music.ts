/** 5. Music: Suno (through an operator's self-hosted Suno API bridge) and local MusicGen. */
import type { FastifyInstance } from "fastify";
import type { ApiDeps } from "../deps.ts";
import { withMissingModelFiles } from "../missing-model.ts";
import { registerJobRoute, runJob } from "../job-route.ts";
import { errorResponses } from "../schemas/common.ts";
import { FarmError } from "../../core/errors.ts";
import { jobTypeBody } from "../job-type-body.ts";
import { SUNO_CREDITS, SUNO_GENERATE, SUNO_LYRICS } from "../../plugins/suno/job-types.ts";
import { DEFAULT_MUSIC_MODEL, MUSIC_GENERATE, MUSICGEN_MODELS, modelFiles, LICENSE_NOTE } from "../../plugins/musicgen/job-types.ts";

export async function musicRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const toResponse = (job: { id: string; result?: Record<string, unknown> | null }) => ({ job_id: job.id, ...(job.result ?? {}) });
  registerJobRoute<Record<string, unknown>>(app, deps, {
    url: "/api/v1/suno/generate",
    jobType: SUNO_GENERATE.type,
    tags: ["music"],
    summary: "Generate songs with Suno (simple: prompt; custom: lyrics + style + title)",
    rateGroup: "suno",
    waitS: 300,
    body: jobTypeBody(SUNO_GENERATE),
    response: {
      type: "object",
      additionalProperties: true,
      properties: {
        success: { type: "boolean" },
        songs: { type: "array", items: { type: "object", additionalProperties: true } },
        saved_file: { type: ["object", "null"], additionalProperties: true },
        credits_used: { type: "number" },
      },
    },
    toResponse,
  });
  registerJobRoute<Record<string, unknown>>(app, deps, {
    url: "/api/v1/suno/lyrics",
    jobType: SUNO_LYRICS.type,
    tags: ["music"],
    summary: "Generate lyrics only (free)",
    rateGroup: "suno",
    waitS: 60,
    body: jobTypeBody(SUNO_LYRICS),
    toResponse,
  });
  app.get(
    "/api/v1/suno/credits",
    {
      config: { rateGroup: "suno" },
      schema: {
        tags: ["music"],
        summary: "Suno credit balance",
        response: {
          200: { type: "object", properties: { credits_left: { type: "number" }, monthly_limit: { type: "number" }, monthly_usage: { type: "number" } } },
          ...errorResponses,
        },
      },
    },
    async (req) => runJob(deps, req, SUNO_CREDITS.type, {}, 30_000, "suno"),
  );
  registerJobRoute<Record<string, unknown>>(app, withMissingModelFiles(deps, explainMissingModel), {
    url: "/api/v1/musicgen/generate",
    jobType: MUSIC_GENERATE.type,
    tags: ["music"],
    summary: "Generate music locally with MusicGen (needs a node with MusicGen weights)",
    waitS: 600,
    body: jobTypeBody(MUSIC_GENERATE),
    response: {
      type: "object",
      additionalProperties: true,
      properties: {
        job_id: { type: "string" },
        status: { type: "string" },
        audio_url: { type: "string" },
        wav_url: { type: "string" },
        duration: { type: "number" },
        model: { type: "string" },
        seed: { type: "integer" },
        sample_rate: { type: "integer" },
      },
    },
    toResponse: (job) => ({ job_id: job.id, status: "completed", ...(job.result ?? {}) }),
  });
}

/** When no node offers the model, the 503 also names the files it needs under paths.models. */
function explainMissingModel(err: FarmError, params: Record<string, unknown>): FarmError {
  const id = typeof params.model === "string" ? params.model : DEFAULT_MUSIC_MODEL;
  const info = MUSICGEN_MODELS.find((m) => m.id === id);
  if (!info) return err;
  const files = modelFiles(info);
  return new FarmError(
    "CAPABILITY_UNAVAILABLE",
    `${err.message}. MusicGen '${id}' runs on a node whose paths.models holds: ${files.join(", ")} (weights: ${info.source}; ${LICENSE_NOTE})`,
    { ...(err.details ?? {}), model: id, expected_files: files },
  );
}
