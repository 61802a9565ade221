/** 2. Image generation: /generate/image and /generate/batch. GPU plugins (SDXL, Flux) or a remote gateway serve them. */
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ApiDeps } from "../deps.ts";
import { asBodyField, registerJobRoute, ownerOf, webhookFor, webhookUrlSchema } from "../job-route.ts";
import { mediaKey } from "../media.ts";
import { mediaRef, errorResponses } from "../schemas/common.ts";
import { characterJobParams } from "../character-job.ts";
import { applyPlatform } from "../image-platform.ts";
import { jobTypeBody } from "../job-type-body.ts";
import { IMAGE_DEFAULT_MODEL, IMAGE_GENERATE, MAX_REFERENCE_IMAGES } from "../../core/job-types/image-generate.ts";

const modelId = { type: "string", minLength: 1, maxLength: 200, pattern: "^[A-Za-z0-9._:/-]+$" } as const;

/**
 * /generate/image's body: image.generate's one definition (core/job-types/image-generate.ts),
 * closed, with the fields only the API has: `model` (any model a node offers; the plugins
 * serving the type add their own), references as media the route resolves to artifact keys,
 * and the character fields that turn the request into an image.character job.
 */
const imageBody = jobTypeBody(IMAGE_GENERATE, {
  omit: ["sampler"],
  // No size default here: an absent size is the platform's when one is named (applyPlatform), else the schema's 1024 in the plugin.
  noDefault: ["width", "height"],
  fields: {
    model: {
      ...modelId,
      default: IMAGE_DEFAULT_MODEL,
      description: "google/gemini-2.0-flash-exp:free, flux.1-schnell, sdxl-base-1.0, sdxl-turbo, or any model a node offers",
    },
    reference_images: {
      type: "array",
      maxItems: MAX_REFERENCE_IMAGES,
      items: mediaRef("Reference image: upload/artifact reference, base64 or data URL, or allowed path/URL"),
    },
    character_id: {
      type: "string",
      maxLength: 100,
      description: "A registered character: generated with its photos on a face-reference workflow, every output's face verified (metadata.character)",
    },
    character_attempts: {
      type: "integer",
      minimum: 1,
      maximum: 10,
      description: "With character_id: generations tried (new seed each) until the face matches; default 3",
    },
  },
}) as { required: string[]; properties: Record<string, unknown> };

/** /generate/batch's shared_settings: every field of the image body but the prompt. */
const { prompt: _prompt, ...imageSettings } = imageBody.properties;

export async function generateRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const resolveRefs = async (refs: unknown, field: string, req: FastifyRequest) =>
    Array.isArray(refs) ? Promise.all(refs.map((r, i) => mediaKey(deps, r, `${field}[${i}]`, "image", req))) : undefined;

  registerJobRoute<Record<string, unknown>>(app, deps, {
    url: "/api/v1/generate/image",
    // With a character the job is an image.character parent (coordinator/character-flow.ts).
    jobType: (b) => (b.character_id !== undefined ? "image.character" : "image.generate"),
    tags: ["generate"],
    summary: "Generate one image from a prompt",
    rateGroup: "generate_image",
    body: imageBody,
    response: {
      type: "object",
      additionalProperties: true,
      properties: {
        job_id: { type: "string" },
        status: { type: "string" },
        image_url: { type: "string" },
        image_base64: { type: "string" },
        metadata: { type: "object", additionalProperties: true },
      },
    },
    toParams: async (b, req) => {
      const sized = applyPlatform(b);
      return sized.character_id !== undefined
        ? characterJobParams(deps, sized, req.principal)
        : { ...sized, reference_images: await resolveRefs(sized.reference_images, "reference_images", req) };
    },
  });

  app.post<{ Body: { prompts: string[]; shared_settings?: Record<string, unknown>; webhook_url?: string } }>(
    "/api/v1/generate/batch",
    {
      config: { rateGroup: "generate_image" },
      schema: {
        tags: ["generate"],
        summary: "Generate several images as one batch job; always asynchronous",
        description:
          "Answers 202 with the batch's job_id (a parent job with one image.generate child per prompt, placed over every free node that offers the model). " +
          "Follow it on status_url / ws_url: progress is n of N; the result lists every item in prompt order with its image or its error. " +
          "The batch completes when at least one item completed, fails when every item failed; cancelling it cancels its children. " +
          "`jobs` lists the child jobs (kept for compatibility).",
        body: {
          type: "object",
          required: ["prompts"],
          additionalProperties: false,
          properties: {
            prompts: { type: "array", minItems: 1, maxItems: 100, items: imageBody.properties.prompt },
            shared_settings: { type: "object", additionalProperties: false, default: {}, properties: imageSettings },
            webhook_url: webhookUrlSchema,
          },
        },
        response: {
          202: {
            type: "object",
            properties: {
              job_id: { type: "string" },
              status: { type: "string" },
              status_url: { type: "string" },
              ws_url: { type: "string" },
              jobs: {
                type: "array",
                items: { type: "object", properties: { job_id: { type: "string" }, status: { type: "string" }, prompt: { type: "string" } } },
              },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      const shared = applyPlatform({ ...(req.body.shared_settings ?? {}) }, "shared_settings.platform");
      shared.reference_images = await resolveRefs(shared.reference_images, "shared_settings.reference_images", req);
      if (shared.reference_images === undefined) delete shared.reference_images;
      const { prompts } = req.body;
      // The batch's webhook fires once, when the parent ends (its children carry none).
      const webhook_url = await webhookFor(deps, req, req.body.webhook_url);
      // The parent lives in the coordinator's job store (coordinator/parent-jobs.ts), so the
      // batch goes on when this API process dies.
      // With a character every item is an image.character job (generate, check the face, retry).
      const character = shared.character_id !== undefined ? await characterJobParams(deps, shared, req.principal) : undefined;
      const parent = await deps.farm
        .submit({
          type: "image.batch",
          params: { count: prompts.length, model: shared.model },
          children: character
            ? {
                type: "image.character",
                items: prompts.map((prompt) => ({ ...character, generate: { ...(character.generate as Record<string, unknown>), prompt } })),
              }
            : { type: "image.generate", items: prompts.map((prompt) => ({ ...shared, prompt })) },
          owner: ownerOf(req),
          ...(webhook_url !== undefined ? { webhook_url } : {}),
        })
        .catch((err: unknown) => {
          throw asBodyField(err, imageSettings, "shared_settings.");
        });
      const kids = await Promise.all(prompts.map((_, i) => deps.farm.get(`${parent.id}-${i}`).catch(() => null)));
      const jobs = prompts.map((prompt, i) => ({ job_id: `${parent.id}-${i}`, status: kids[i]?.status ?? "pending", prompt }));
      return reply.status(202).send({ job_id: parent.id, status: parent.status, status_url: `/api/v1/jobs/${parent.id}`, ws_url: `/ws/${parent.id}`, jobs });
    },
  );
}
