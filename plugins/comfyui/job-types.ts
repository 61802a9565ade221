/**
 * video.generate, defined once (core/job-types/define.ts): only ComfyUI serves it, so the
 * definition is this plugin's. Its models are the workflow templates' (manifest.ts adds
 * them with withModels), so the definition carries none; the default model is named here.
 * The API route's body derives from it (api/routes/video.ts). Pure data.
 *
 * ComfyUI's other job types are defined in core/job-types/ because other plugins serve them
 * too: image.generate (remote-image) and video.animate (the video plugin's kenburns).
 */
import { Type } from "typebox";
import { defineJobType } from "../../core/job-types/define.ts";

/** The model /video/generate uses when the request names none. */
export const VIDEO_DEFAULT_MODEL = "ltx-video-0.9.7-distilled";

export const VideoGenerateParams = Type.Object({
  prompt: Type.String({ minLength: 1, maxLength: 4000, pattern: "\\S", description: "What happens (not only spaces)" }),
  negative_prompt: Type.Optional(Type.String({ maxLength: 2000 })),
  num_frames: Type.Optional(Type.Integer({ minimum: 1, maximum: 257, default: 121 })),
  height: Type.Optional(Type.Integer({ minimum: 64, maximum: 2048, multipleOf: 32, default: 512 })),
  width: Type.Optional(Type.Integer({ minimum: 64, maximum: 2048, multipleOf: 32, default: 768 })),
  fps: Type.Optional(Type.Integer({ minimum: 1, maximum: 60, default: 24 })),
  num_inference_steps: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 8 })),
  guidance_scale: Type.Optional(Type.Number({ minimum: 0, maximum: 20, default: 3.0 })),
  seed: Type.Optional(Type.Unsafe<number | null>({ type: ["integer", "null"], minimum: 0, maximum: 4294967295 })),
  image: Type.Optional(Type.String({ minLength: 1, description: "Artifact key of a start image (image-to-video)" })),
});

export const VIDEO_GENERATE = defineJobType({
  type: "video.generate",
  description: "Text/image-to-video on ComfyUI (LTX-Video)",
  params: VideoGenerateParams,
});
