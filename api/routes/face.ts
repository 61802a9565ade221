/**
 * 6. Face and character: /face/detect, /face/embed, /character/register, /character/verify,
 * plus list / get / add references / delete. Embeddings come from face jobs on agents;
 * characters are stored durably (Redis or the embedded store) and remember their model,
 * so embeddings from different models are never compared.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ApiDeps } from "../deps.ts";
import { registerJobRoute, runJob, ownerOf } from "../job-route.ts";
import { canActOn } from "../auth.ts";
import { mediaKey } from "../media.ts";
import { mediaRef, errorResponses } from "../schemas/common.ts";
import { characterListSchema, characterSchema, deletedSchema, verifySchema } from "../schemas/character.ts";
import { FarmError } from "../../core/errors.ts";
import type { JobTypeDef } from "../../core/job-types/define.ts";
import { jobTypeBody } from "../job-type-body.ts";
import { FACE_DETECT, FACE_EMBED, FACE_MODELS } from "../../plugins/face/job-types.ts";
import {
  buildCharacter,
  verify,
  assertCharacterId,
  characterNotFound,
  characterModelFor,
  sortReferences,
  type CharacterRecord,
} from "../../core/characters/index.ts";

type Body = Record<string, unknown>;
const faceModel = {
  type: "string",
  enum: [...FACE_MODELS],
  description:
    "face-api (CPU, ships with the farm; default for detect/embed), human-faceres (CPU, ships with the farm), faceplugin-fr (CPU, its weights file placed by the operator), fusion-fr-faceres (both on the same face; the default for new characters where a node offers it, else human-faceres) or insightface (operator-supplied buffalo_l weights)",
} as const;
const imageField = (d: string) => mediaRef(d);

interface RefResult {
  index: number;
  ok: boolean;
  embedding?: number[];
  bbox?: number[];
  /** Face quality (plugins/face/quality.ts); the gate in core/characters/quality.ts refuses too-dark faces. */
  quality?: unknown;
  reason?: string;
}

export async function faceRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const characters = () => {
    if (!deps.characters) throw new FarmError("SERVICE_UNAVAILABLE", "character store is not configured", { field: "character", constraint: "store" });
    return deps.characters;
  };
  /** The character if the caller may use it: its owner or an admin. Anyone else gets NOT_FOUND, as for another key's job. */
  const owned = async (req: FastifyRequest, id: unknown): Promise<CharacterRecord> => {
    assertCharacterId(id);
    const c = await characters().get(id);
    if (!c || !canActOn(req.principal, c.owner)) throw characterNotFound(id);
    return c;
  };
  /** Model for a character registered or re-embedded without naming one: the best one a live, undrained node offers. */
  const newCharacterModel = async (): Promise<string> => {
    const offered = new Set<string>();
    for (const n of await deps.farm.nodes()) {
      if (n.draining === true) continue;
      const report = n.report as { models?: Record<string, string[]> } | undefined;
      for (const m of report?.models?.["face.embed_references"] ?? []) offered.add(m);
    }
    return characterModelFor(offered);
  };
  const image = async (b: Body, req: FastifyRequest) => {
    const field = b.image_base64 !== undefined ? "image_base64" : "image";
    const v = b.image_base64 ?? b.image;
    if (v === undefined) throw new FarmError("VALIDATION_ERROR", "image_base64 (or image) is required", { field: "image_base64", constraint: "required" });
    return mediaKey(deps, v, field, "image", req);
  };
  const runFaceJob = (req: FastifyRequest, type: string, params: Body) => runJob(deps, req, type, params, deps.config.api.sync_wait_s * 1000, type);
  const embedReferences = async (req: FastifyRequest, images: unknown[], model: string | undefined, field: string) => {
    const keys = await Promise.all(images.map((v, i) => mediaKey(deps, v, `${field}[${i}]`, "image", req)));
    // References use the accurate detector: refusing a photo with two similar faces needs every face found.
    const r = await runFaceJob(req, "face.embed_references", {
      images: keys,
      ...(model ? { model } : {}),
      ...(model === "face-api" || model === undefined ? { detector: "accurate" } : {}),
    });
    const usedModel = String(r.model ?? model ?? "face-api");
    const { accepted, rejected } = sortReferences((r.results ?? r.references ?? []) as RefResult[], keys, field);
    return { accepted, rejected, model: usedModel };
  };
  const characterView = (c: CharacterRecord, extra: Record<string, unknown> = {}) => ({
    character_id: c.character_id,
    name: c.name,
    description: c.description,
    model: c.model,
    embedding_dim: c.embedding_dim,
    embedding_count: c.embeddings.length,
    average_embedding: c.average_embedding,
    consistency: c.consistency,
    created_at: c.created_at,
    updated_at: c.updated_at,
    ...extra,
  });

  /**
   * A face route's body: the job type's one definition (plugins/face/job-types.ts), closed,
   * with the image as media under either name (image_base64 or image, resolved to the
   * `image` artifact key in toParams), the models the API offers, and rotation search on by
   * default (on the mesh, the operator's plugins.face.rotation_search decides).
   */
  const faceBody = (def: JobTypeDef) =>
    jobTypeBody(def, {
      notRequired: ["image"],
      defaults: { rotation_search: true },
      fields: {
        image_base64: imageField("The image: base64 or data URL (or an upload/artifact reference)"),
        image: imageField("Alternative to image_base64: upload/artifact reference, allowed path or URL"),
        model: faceModel,
      },
    });

  registerJobRoute<Body>(app, deps, {
    url: "/api/v1/face/detect",
    jobType: "face.detect",
    tags: ["face"],
    summary: "Detect faces: boxes in source pixels, confidence, 5 named landmarks",
    waitS: 60,
    body: faceBody(FACE_DETECT),
    toParams: async (b, req) => ({
      image: await image(b, req),
      return_landmarks: b.return_landmarks,
      ...(b.model ? { model: b.model } : {}),
      ...(b.detector ? { detector: b.detector } : {}),
      ...(b.rotation_search !== undefined ? { rotation_search: b.rotation_search } : {}),
    }),
    toResponse: (job) => ({ job_id: job.id, ...(job.result ?? {}) }),
  });
  registerJobRoute<Body>(app, deps, {
    url: "/api/v1/face/embed",
    jobType: "face.embed",
    tags: ["face"],
    summary: "Embedding of the largest (or a chosen) face; 400 when the image has no face",
    waitS: 60,
    body: faceBody(FACE_EMBED),
    toParams: async (b, req) => ({
      image: await image(b, req),
      ...(b.face_index !== undefined ? { face_index: b.face_index } : {}),
      ...(b.model ? { model: b.model } : {}),
      ...(b.detector ? { detector: b.detector } : {}),
      ...(b.rotation_search !== undefined ? { rotation_search: b.rotation_search } : {}),
    }),
    toResponse: (job) => ({ job_id: job.id, ...(job.result ?? {}) }),
  });

  app.post<{ Body: { name: string; reference_images: unknown[]; description?: string; model?: string } }>(
    "/api/v1/character/register",
    {
      bodyLimit: Math.round(deps.config.api.body_limit_mb * 4 * 1024 * 1024),
      schema: {
        tags: ["character"],
        summary: "Register a character from reference photos; photos without exactly one clear face are rejected with the reason",
        body: {
          type: "object",
          required: ["name", "reference_images"],
          additionalProperties: false,
          properties: {
            name: { type: "string", minLength: 1, maxLength: 200 },
            reference_images: { type: "array", minItems: 1, maxItems: 20, items: imageField("Reference photo: base64/data URL or upload/artifact reference") },
            description: { type: "string", maxLength: 2000 },
            model: faceModel,
          },
        },
        response: { 200: characterSchema, ...errorResponses },
      },
    },
    async (req) => {
      // New characters get the model that measured best among those on offer (thresholds.ts); existing ones keep theirs.
      const { accepted, rejected, model } = await embedReferences(
        req,
        req.body.reference_images,
        req.body.model ?? (await newCharacterModel()),
        "reference_images",
      );
      if (accepted.length === 0) {
        throw new FarmError("VALIDATION_ERROR", `no reference image had a usable face: ${rejected.map((r) => `${r.field}: ${r.reason}`).join("; ")}`, {
          field: "reference_images",
          constraint: "face",
          rejected,
        });
      }
      const owner = ownerOf(req);
      const record = await characters().create({
        ...buildCharacter(req.body.name, req.body.description ?? "", model, accepted),
        ...(owner !== undefined ? { owner } : {}),
      });
      return characterView(record, { rejected });
    },
  );

  app.post<{ Body: { character_id: string; test_image: unknown } }>(
    "/api/v1/character/verify",
    {
      schema: {
        tags: ["character"],
        summary: "Does the image show the registered character? Similarity, calibrated threshold, match, confidence",
        body: {
          type: "object",
          required: ["character_id", "test_image"],
          additionalProperties: false,
          properties: {
            character_id: { type: "string", maxLength: 100 },
            test_image: imageField("The image to check: base64/data URL or upload/artifact reference"),
          },
        },
        response: { 200: verifySchema, ...errorResponses },
      },
    },
    async (req) => {
      const c = await owned(req, req.body.character_id);
      const key = await mediaKey(deps, req.body.test_image, "test_image", "image", req);
      const r = await runFaceJob(req, "face.embed", { image: key, model: c.model });
      const v = verify(c, r.embedding as number[], String(r.model), r.quality);
      return { ...v, character_id: c.character_id, bbox: r.bbox ?? null, rotation: r.rotation ?? 0 };
    },
  );

  app.get(
    "/api/v1/character/list",
    {
      schema: {
        tags: ["character"],
        summary: "Registered characters (without per-image embeddings)",
        response: { 200: characterListSchema, ...errorResponses },
      },
    },
    async (req) => ({ characters: (await characters().list()).filter((c) => canActOn(req.principal, c.owner)).map((c) => characterView(c)) }),
  );

  const idParams = { type: "object", required: ["character_id"], properties: { character_id: { type: "string", maxLength: 100 } } } as const;
  app.get<{ Params: { character_id: string } }>(
    "/api/v1/character/:character_id",
    {
      schema: { tags: ["character"], summary: "One character", params: idParams, response: { 200: characterSchema, ...errorResponses } },
    },
    async (req) => {
      const c = await owned(req, req.params.character_id);
      return characterView(c);
    },
  );
  app.post<{ Params: { character_id: string }; Body: { reference_images: unknown[] } }>(
    "/api/v1/character/:character_id/references",
    {
      bodyLimit: Math.round(deps.config.api.body_limit_mb * 4 * 1024 * 1024),
      schema: {
        tags: ["character"],
        summary: "Add reference photos to a character (same model), re-averaging its embedding",
        params: idParams,
        body: {
          type: "object",
          required: ["reference_images"],
          additionalProperties: false,
          properties: { reference_images: { type: "array", minItems: 1, maxItems: 20, items: imageField("Reference photo") } },
        },
        response: { 200: characterSchema, ...errorResponses },
      },
    },
    async (req) => {
      const c = await owned(req, req.params.character_id);
      const { accepted, rejected } = await embedReferences(req, req.body.reference_images, c.model, "reference_images");
      if (accepted.length === 0)
        throw new FarmError("VALIDATION_ERROR", "no reference image had a usable face", { field: "reference_images", constraint: "face", rejected });
      return characterView(await characters().update(c.character_id, accepted, c.model), { rejected });
    },
  );
  app.post<{ Params: { character_id: string }; Body: { model?: string } }>(
    "/api/v1/character/:character_id/reembed",
    {
      schema: {
        tags: ["character"],
        summary:
          "Move a character to another face model: its stored reference photos are embedded again with `model` (default: the model for new characters); id and name stay",
        params: idParams,
        body: { type: "object", additionalProperties: false, properties: { model: faceModel } },
        response: { 200: characterSchema, ...errorResponses },
      },
    },
    async (req) => {
      const c = await owned(req, req.params.character_id);
      const model = req.body?.model ?? (await newCharacterModel());
      // The references' sources are the artifact keys the photos were stored under at registration.
      const keys = c.embeddings.map((e) => e.source);
      const r = await runFaceJob(req, "face.embed_references", { images: keys, model, ...(model === "face-api" ? { detector: "accurate" } : {}) });
      // The quality gate applies as at registration: a too-dark photo is not moved to the new model.
      const { accepted, rejected } = sortReferences((r.results ?? []) as RefResult[], keys, "references");
      if (accepted.length === 0)
        throw new FarmError("VALIDATION_ERROR", `no stored reference photo of this character could be embedded with '${model}'`, {
          field: "model",
          constraint: "reference photos with a face",
          rejected,
        });
      return characterView(await characters().reembed(c.character_id, accepted, model), { rejected, previous_model: c.model });
    },
  );
  app.delete<{ Params: { character_id: string } }>(
    "/api/v1/character/:character_id",
    {
      schema: { tags: ["character"], summary: "Delete a character", params: idParams, response: { 200: deletedSchema, ...errorResponses } },
    },
    async (req) => {
      await owned(req, req.params.character_id);
      if (!(await characters().delete(req.params.character_id))) throw characterNotFound(req.params.character_id);
      return { deleted: true, character_id: req.params.character_id };
    },
  );
}
