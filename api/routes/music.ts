/** 5. Music: Suno (through an operator's self-hosted Suno API bridge) and local MusicGen. */
import type { FastifyInstance } from "fastify";
import type { ApiDeps } from "../deps.ts";
import { registerJobRoute, runJob } from "../job-route.ts";
import { errorResponses } from "../schemas/common.ts";

export async function musicRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const toResponse = (job: { id: string; result?: Record<string, unknown> | null }) => ({ job_id: job.id, ...(job.result ?? {}) });
  registerJobRoute<Record<string, unknown>>(app, deps, {
    url: "/api/v1/suno/generate",
    jobType: "suno.generate",
    tags: ["music"],
    summary: "Generate songs with Suno (simple: prompt; custom: lyrics + style + title)",
    rateGroup: "suno",
    waitS: 300,
    body: {
      type: "object",
      required: ["prompt"],
      additionalProperties: false,
      properties: {
        mode: { type: "string", enum: ["simple", "custom"], default: "simple" },
        prompt: { type: "string", minLength: 1, maxLength: 3000, description: "Song description (simple) or lyrics (custom)" },
        style: { type: "string", maxLength: 200 },
        title: { type: "string", maxLength: 200 },
        instrumental: { type: "boolean", default: false },
        wait_audio: { type: "boolean", default: true },
        model: { type: "string", maxLength: 50, default: "chirp-v3-5" },
      },
    },
    response: {
      type: "object",
      additionalProperties: true,
      properties: { success: { type: "boolean" }, songs: { type: "array", items: { type: "object", additionalProperties: true } }, saved_file: { type: ["object", "null"], additionalProperties: true }, credits_used: { type: "number" } },
    },
    toResponse,
  });
  registerJobRoute<Record<string, unknown>>(app, deps, {
    url: "/api/v1/suno/lyrics",
    jobType: "suno.lyrics",
    tags: ["music"],
    summary: "Generate lyrics only (free)",
    rateGroup: "suno",
    waitS: 60,
    body: { type: "object", required: ["prompt"], additionalProperties: false, properties: { prompt: { type: "string", minLength: 1, maxLength: 2000 } } },
    toResponse,
  });
  app.get("/api/v1/suno/credits", {
    config: { rateGroup: "suno" },
    schema: {
      tags: ["music"],
      summary: "Suno credit balance",
      response: { 200: { type: "object", properties: { credits_left: { type: "number" }, monthly_limit: { type: "number" }, monthly_usage: { type: "number" } } }, ...errorResponses },
    },
  }, async (req) => runJob(deps, req, "suno.credits", {}, 30_000, "suno"));
  registerJobRoute<Record<string, unknown>>(app, deps, {
    url: "/api/v1/musicgen/generate",
    jobType: "music.generate",
    tags: ["music"],
    summary: "Generate music locally with MusicGen (needs a node with MusicGen weights)",
    waitS: 600,
    body: {
      type: "object",
      required: ["prompt"],
      additionalProperties: false,
      properties: {
        prompt: { type: "string", minLength: 1, maxLength: 2000 },
        model: { type: "string", enum: ["musicgen-small", "musicgen-medium", "musicgen-large"], default: "musicgen-medium" },
        duration: { type: "number", exclusiveMinimum: 0, maximum: 300, default: 30 },
        temperature: { type: "number", exclusiveMinimum: 0, maximum: 5, default: 1.0 },
        top_k: { type: "integer", minimum: 0, maximum: 2048, default: 250 },
        top_p: { type: "number", minimum: 0, maximum: 1, default: 0 },
        cfg: { type: "number", minimum: 0, maximum: 20, default: 3.0 },
        seed: { type: ["integer", "null"], minimum: 0 },
      },
    },
    toResponse,
  });
}
