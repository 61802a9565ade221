/**
 * POST /api/v1/uploads: multipart upload streamed into the artifact store,
 * content-addressed (same bytes -> same key). The answer's `ref` ("upload:<sha256>")
 * or `key` can be used in any media field of any endpoint.
 */
import type { FastifyInstance } from "fastify";
import multipart from "@fastify/multipart";
import type { ApiDeps } from "../deps.ts";
import { FarmError } from "../../core/errors.ts";
import { multipartFault, storeUpload } from "../inputs/uploads.ts";
import { inputDeps } from "../media.ts";
import { errorResponses } from "../schemas/common.ts";

const KINDS = ["image", "audio", "video", "any"] as const;
type Kind = (typeof KINDS)[number];

export async function uploadRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const lim = deps.config.api.inputs;
  const maxBytes = Math.round(Math.max(lim.max_image_mb, lim.max_audio_mb, lim.max_video_mb) * 1024 * 1024);
  await app.register(multipart, { limits: { fileSize: maxBytes, files: 1, fields: 5, fieldSize: 1024 } });
  app.post<{ Querystring: { kind?: Kind } }>(
    "/api/v1/uploads",
    {
      schema: {
        tags: ["uploads"],
        summary: "Upload a media file (multipart/form-data, field 'file'); ?kind=image|audio|video|any checks its type and size limit",
        consumes: ["multipart/form-data"],
        querystring: { type: "object", properties: { kind: { type: "string", enum: [...KINDS], default: "any" } } },
        response: {
          201: {
            type: "object",
            properties: {
              ref: { type: "string" },
              key: { type: "string" },
              size: { type: "integer" },
              sha256: { type: "string" },
              content_type: { type: "string" },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      if (!req.isMultipart())
        throw new FarmError("UNSUPPORTED_MEDIA_TYPE", "send multipart/form-data with a 'file' field", {
          field: "content-type",
          constraint: "multipart/form-data",
        });
      const file = await req.file().catch((err: unknown) => {
        throw multipartFault(err) ?? err;
      });
      if (!file) throw new FarmError("VALIDATION_ERROR", "no file in the upload", { field: "file", constraint: "required" });
      const stored = await storeUpload(file.file, { kind: req.query.kind ?? "any", filename: file.filename, declaredType: file.mimetype }, inputDeps(deps));
      if (file.file.truncated) throw new FarmError("PAYLOAD_TOO_LARGE", "file exceeds the upload size limit", { field: "file", constraint: "max_size" });
      return reply.status(201).send({ ref: `upload:${stored.sha256}`, ...stored });
    },
  );
}
