/** 1. Prompt enhancement: /enhance/prompt (7 stages), /enhance/quick (3), /enhance/styles. */
import type { FastifyInstance } from "fastify";
import type { ApiDeps } from "../deps.ts";
import { registerJobRoute } from "../job-route.ts";
import { listStyles } from "../../core/styles.ts";
import { errorResponses } from "../schemas/common.ts";

const enhanceBody = (withLevel: boolean) => ({
  type: "object",
  required: ["prompt"],
  additionalProperties: false,
  properties: {
    prompt: { type: "string", minLength: 1, maxLength: 2000, description: "The idea to enhance" },
    style: { type: "string", maxLength: 100, description: "A style preset name (GET /api/v1/enhance/styles)" },
    platform: { type: "string", maxLength: 100, description: "Target platform, e.g. \"YouTube (16:9)\"" },
    ...(withLevel ? { enhancement_level: { type: "string", enum: ["quick", "standard", "full"], default: "full" } } : {}),
    include_negative: { type: "boolean", default: true },
    scene_index: { type: "integer", minimum: 0, maximum: 10000, description: "Position of this scene in a music video (stage 5)" },
    scene_count: { type: "integer", minimum: 1, maximum: 10000 },
    engine: { type: "string", enum: ["rules", "llm"], description: "rules (default, deterministic) or llm (configured OpenAI-compatible endpoint, falls back to rules per stage)" },
  },
});

const enhanceResponse = {
  type: "object",
  additionalProperties: true,
  properties: {
    job_id: { type: "string" },
    original_prompt: { type: "string" },
    enhanced_prompt: { type: "string" },
    negative_prompt: { type: "string" },
    stages_completed: { type: "array", items: { type: "string" } },
    style_dna: {
      type: "object",
      additionalProperties: true,
      properties: { primary_colors: { type: "array", items: { type: "string" } }, lighting: { type: "string" }, mood: { type: "string" }, camera: { type: "string" } },
    },
    timestamp: { type: "string" },
  },
} as const;

export async function enhanceRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const toResponse = (job: { id: string; result?: Record<string, unknown> | null }) => ({ job_id: job.id, ...(job.result ?? {}) });
  registerJobRoute(app, deps, {
    url: "/api/v1/enhance/prompt",
    jobType: "enhance.prompt",
    tags: ["enhance"],
    summary: "Enhance a prompt with the 7-stage pipeline (quick = 1-3, standard = 1-5, full = 1-7)",
    rateGroup: "enhance",
    waitS: 30,
    body: enhanceBody(true),
    response: enhanceResponse,
    toResponse,
  });
  registerJobRoute(app, deps, {
    url: "/api/v1/enhance/quick",
    jobType: "enhance.prompt",
    tags: ["enhance"],
    summary: "Quick 3-stage enhancement",
    rateGroup: "enhance",
    waitS: 30,
    body: enhanceBody(false),
    response: enhanceResponse,
    toParams: (b) => ({ ...b, enhancement_level: "quick" }),
    toResponse,
  });
  app.get("/api/v1/enhance/styles", {
    config: { rateGroup: "enhance" },
    schema: {
      tags: ["enhance"],
      summary: "Style presets",
      response: {
        200: {
          type: "object",
          properties: {
            styles: {
              type: "array",
              items: { type: "object", properties: { name: { type: "string" }, description: { type: "string" }, keywords: { type: "array", items: { type: "string" } } } },
            },
          },
        },
        ...errorResponses,
      },
    },
  }, async () => ({ styles: listStyles() }));
}
