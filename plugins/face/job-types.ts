/**
 * face.detect, face.embed and face.embed_references, defined once (core/job-types/define.ts):
 * params schemas, models and the default model. The manifest (index.ts) lists these, so the
 * coordinator checks submissions against them; the API's /face/detect and /face/embed bodies
 * derive from them (api/routes/face.ts) and the plugin parses with them (params.ts). Pure
 * data: no runtime imports, so the API loads it without tfjs or onnxruntime.
 *
 * Absent `rotation_search` and `detector` have no schema default on purpose: the operator's
 * plugin config (plugins.face.rotation_search) and the backend decide them.
 */
import { Type } from "typebox";
import { defineJobType, StringEnum } from "../../core/job-types/define.ts";

/** Model ids; "faceplugin-fr" and "fusion-fr-faceres" are faceplugin/ and fusion/backend.ts's (a test keeps them equal). */
export const FACE_MODELS = ["face-api", "insightface", "human-faceres", "faceplugin-fr", "fusion-fr-faceres"] as const;
export const DEFAULT_FACE_MODEL = "face-api";
export const MAX_REFERENCE_IMAGES = 20;

const imageKey = (description: string) => Type.String({ minLength: 1, maxLength: 512, description });

const detector = Type.Optional(
  StringEnum(["fast", "accurate"] as const, {
    description: "fast (TinyFaceDetector, falls back to SSD for small faces) or accurate (SSD every time); face-api model only",
  }),
);
const rotationSearch = Type.Optional(
  Type.Boolean({ description: "When no upright face is found, try the image turned 90/270/180 degrees; the response's rotation says which turn found it" }),
);

export const FaceDetectParams = Type.Object({
  image: imageKey("Artifact key of the image (the API resolves uploads, base64, paths and URLs to one)"),
  return_landmarks: Type.Optional(Type.Boolean({ default: true })),
  detector,
  rotation_search: rotationSearch,
});

export const FaceEmbedParams = Type.Object({
  image: imageKey("Artifact key of the image (the API resolves uploads, base64, paths and URLs to one)"),
  face_index: Type.Optional(
    Type.Union([Type.Integer({ minimum: 0, maximum: 999 }), Type.Literal("largest")], {
      default: "largest",
      description: "Which face (0 = first detected), or the largest (default)",
    }),
  ),
  detector,
  rotation_search: rotationSearch,
});

export const FaceEmbedReferencesParams = Type.Object({
  images: Type.Array(imageKey("Artifact key of a reference photo"), { minItems: 1, maxItems: MAX_REFERENCE_IMAGES }),
  detector,
  rotation_search: rotationSearch,
});

const models = [...FACE_MODELS];

export const FACE_DETECT = defineJobType({
  type: "face.detect",
  description: "Faces with boxes, confidence and 5 landmarks",
  models,
  default_model: DEFAULT_FACE_MODEL,
  params: FaceDetectParams,
});
export const FACE_EMBED = defineJobType({
  type: "face.embed",
  description: "Identity embedding of one face (largest by default)",
  models,
  default_model: DEFAULT_FACE_MODEL,
  params: FaceEmbedParams,
});
export const FACE_EMBED_REFERENCES = defineJobType({
  type: "face.embed_references",
  description: "One embedding per reference photo, for character registration",
  models,
  default_model: DEFAULT_FACE_MODEL,
  params: FaceEmbedReferencesParams,
});
