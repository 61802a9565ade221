/** 1. Prompt enhancement: /enhance/prompt (7 stages), /enhance/quick (3), /enhance/styles. */
import type { FastifyInstance } from "fastify";
import type { ApiDeps } from "../deps.ts";
import { registerJobRoute } from "../job-route.ts";
import { listStyles } from "../../core/styles.ts";
import { errorResponses } from "../schemas/common.ts";
import { jobTypeBody } from "../job-type-body.ts";
import { ENHANCE_PROMPT } from "../../plugins/enhance/job-types.ts";

/** The body of /enhance/prompt; /enhance/quick has no enhancement_level (it is always quick). */
const enhanceBody = (withLevel: boolean) => jobTypeBody(ENHANCE_PROMPT, withLevel ? {} : { omit: ["enhancement_level"] });

const enhanceResponse = {
  type: "object",
  additionalProperties: true,
  properties: {
    job_id: { type: "string" },
    original_prompt: { type: "string" },
    enhanced_prompt: { type: "string" },
    negative_prompt: { type: ["string", "null"], description: "null when include_negative is false" },
    stages_completed: { type: "array", items: { type: "string" } },
    style_dna: {
      type: "object",
      additionalProperties: true,
      properties: {
        primary_colors: { type: "array", items: { type: "string" } },
        lighting: { type: "string" },
        mood: { type: "string" },
        camera: { type: "string" },
      },
    },
    timestamp: { type: "string" },
  },
} as const;

export async function enhanceRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  // include_negative: false -> negative_prompt null: the spec's response always has the key,
  // so a client reads one shape (null = not asked for) instead of a missing field.
  const toResponse = (job: { id: string; result?: Record<string, unknown> | null }) => ({ job_id: job.id, negative_prompt: null, ...(job.result ?? {}) });
  registerJobRoute(app, deps, {
    url: "/api/v1/enhance/prompt",
    jobType: ENHANCE_PROMPT.type,
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
    jobType: ENHANCE_PROMPT.type,
    tags: ["enhance"],
    summary: "Quick 3-stage enhancement",
    rateGroup: "enhance",
    waitS: 30,
    body: enhanceBody(false),
    response: enhanceResponse,
    toParams: (b) => ({ ...b, enhancement_level: "quick" }),
    toResponse,
  });
  app.get(
    "/api/v1/enhance/styles",
    {
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
                items: {
                  type: "object",
                  properties: { name: { type: "string" }, description: { type: "string" }, keywords: { type: "array", items: { type: "string" } } },
                },
              },
            },
          },
          ...errorResponses,
        },
      },
    },
    async () => ({ styles: listStyles() }),
  );
}
