/** 2. Image generation: /generate/image and /generate/batch. GPU plugins (SDXL, Flux) or a remote gateway serve them. */
import type { FastifyInstance } from "fastify";
import type { ApiDeps } from "../deps.ts";
import { registerJobRoute, ownerOf } from "../job-route.ts";
import { mediaKey } from "../media.ts";
import { mediaRef, errorResponses } from "../schemas/common.ts";
import { FarmError } from "../../core/errors.ts";

const modelId = { type: "string", minLength: 1, maxLength: 200, pattern: "^[A-Za-z0-9._:/-]+$" } as const;

const imageSettings = {
  negative_prompt: { type: "string", maxLength: 2000 },
  model: { ...modelId, default: "sdxl-base-1.0", description: "google/gemini-2.0-flash-exp:free, flux.1-schnell, sdxl-base-1.0, sdxl-turbo, or any model a node offers" },
  width: { type: "integer", minimum: 64, maximum: 4096, multipleOf: 8, default: 1024 },
  height: { type: "integer", minimum: 64, maximum: 4096, multipleOf: 8, default: 1024 },
  style_preset: { type: "string", maxLength: 100 },
  reference_images: { type: "array", maxItems: 8, items: mediaRef("Reference image: upload/artifact reference, base64 or data URL, or allowed path/URL") },
  character_id: { type: "string", maxLength: 100 },
  seed: { type: ["integer", "null"], minimum: 0, maximum: 4294967295 },
  steps: { type: "integer", minimum: 1, maximum: 150 },
  guidance_scale: { type: "number", minimum: 0, maximum: 30 },
} as const;

export async function generateRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const resolveRefs = async (refs: unknown, field: string) =>
    Array.isArray(refs) ? Promise.all(refs.map((r, i) => mediaKey(deps, r, `${field}[${i}]`, "image"))) : undefined;

  registerJobRoute<Record<string, unknown>>(app, deps, {
    url: "/api/v1/generate/image",
    jobType: "image.generate",
    tags: ["generate"],
    summary: "Generate one image from a prompt",
    rateGroup: "generate_image",
    body: { type: "object", required: ["prompt"], additionalProperties: false, properties: { prompt: { type: "string", minLength: 1, maxLength: 4000 }, ...imageSettings } },
    response: {
      type: "object",
      additionalProperties: true,
      properties: { job_id: { type: "string" }, status: { type: "string" }, image_url: { type: "string" }, image_base64: { type: "string" }, metadata: { type: "object", additionalProperties: true } },
    },
    toParams: async (b) => ({ ...b, reference_images: await resolveRefs(b.reference_images, "reference_images") }),
  });

  app.post<{ Body: { prompts: string[]; shared_settings?: Record<string, unknown> } }>("/api/v1/generate/batch", {
    config: { rateGroup: "generate_image" },
    schema: {
      tags: ["generate"],
      summary: "Generate several images; always asynchronous: answers 202 with one job per prompt",
      body: {
        type: "object",
        required: ["prompts"],
        additionalProperties: false,
        properties: {
          prompts: { type: "array", minItems: 1, maxItems: 100, items: { type: "string", minLength: 1, maxLength: 4000 } },
          shared_settings: { type: "object", additionalProperties: false, default: {}, properties: imageSettings },
        },
      },
      response: {
        202: { type: "object", properties: { jobs: { type: "array", items: { type: "object", properties: { job_id: { type: "string" }, status: { type: "string" }, prompt: { type: "string" } } } } } },
        ...errorResponses,
      },
    },
  }, async (req, reply) => {
    const shared = { ...(req.body.shared_settings ?? {}) };
    shared.reference_images = await resolveRefs(shared.reference_images, "shared_settings.reference_images");
    const jobs = [];
    for (const prompt of req.body.prompts) {
      const job = await deps.farm.submit({ type: "image.generate", params: { ...shared, prompt }, owner: ownerOf(req) });
      jobs.push({ job_id: job.id, status: job.status, prompt });
    }
    if (jobs.length === 0) throw new FarmError("VALIDATION_ERROR", "prompts is empty", { field: "prompts", constraint: "min_items" });
    return reply.status(202).send({ jobs });
  });
}
