/**
 * video.animate, defined once for both plugins that serve it: the video plugin's camera
 * motion on any node (model "kenburns", ffmpeg) and ComfyUI's image-to-video models (LTX).
 * As with image.generate (image-generate.ts), the params schema is the job type's, so it
 * lives in core/ where both plugins and the API may import it; each plugin adds its models
 * (withModels). The API route's body derives from it (api/routes/video.ts).
 *
 * Fields that only steer one kind of model stay in the one schema: motion, motion_strength,
 * quality and codec steer kenburns (ComfyUI reports them as ignored); prompt is required by
 * an image-to-video model (ComfyUI checks that: it depends on the model).
 */
import { Type } from "typebox";
import { defineJobType, StringEnum } from "./define.ts";

/** The model a request without one gets (any node can run it). */
export const KENBURNS_MODEL = "kenburns";
export const ANIMATE_MOTIONS = ["zoom_in", "zoom_out", "pan_left", "pan_right", "ken_burns"] as const;
export const VIDEO_CODECS = ["h264", "h265", "vp9", "prores"] as const;
export const QUALITY_TIERS = ["draft", "standard", "high", "maximum"] as const;
export const ANIMATE_MAX_FRAMES = 2000;

const side = Type.Optional(
  Type.Integer({ minimum: 16, maximum: 3840, multipleOf: 2, description: "Absent: from the still's aspect ratio (one side given) or its size" }),
);

export const VideoAnimateParams = Type.Object({
  image: Type.String({ minLength: 1, description: "Artifact key of the still (the API resolves uploads, data URLs, paths and URLs to one)" }),
  prompt: Type.Optional(Type.String({ maxLength: 4000, description: "Required by image-to-video models; kenburns reports it back unused" })),
  num_frames: Type.Optional(Type.Integer({ minimum: 2, maximum: ANIMATE_MAX_FRAMES, default: 121 })),
  fps: Type.Optional(Type.Integer({ minimum: 1, maximum: 60, default: 24 })),
  motion_strength: Type.Optional(Type.Number({ minimum: 0, maximum: 1, default: 0.8, description: "kenburns: zoom 1.05 (0) to 1.15 (1)" })),
  motion: Type.Optional(StringEnum(ANIMATE_MOTIONS, { default: "ken_burns" })),
  width: side,
  height: side,
  quality: Type.Optional(StringEnum(QUALITY_TIERS, { description: "kenburns encoder tier (default standard)" })),
  codec: Type.Optional(StringEnum(VIDEO_CODECS, { description: "kenburns encoder (default h264)" })),
  seed: Type.Optional(
    Type.Unsafe<number | null>({
      type: ["integer", "null"],
      minimum: 0,
      maximum: 4294967295,
      description: "Image-to-video models: the noise seed (random when absent; reported in metadata.seed)",
    }),
  ),
});

/** The job type without models: each serving plugin adds its own (withModels). */
export const VIDEO_ANIMATE = defineJobType({
  type: "video.animate",
  description: "Animate a still image: camera motion or an image-to-video model",
  params: VideoAnimateParams,
});
