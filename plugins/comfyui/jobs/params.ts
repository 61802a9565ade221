/**
 * image.generate, video.generate and video.animate params as this plugin reads them:
 * each checked against its job type's one schema (core/job-types/image-generate.ts,
 * ../job-types.ts, core/job-types/video-animate.ts), which the coordinator already checked
 * at submit, so a job submitted straight to the mesh fails as clearly: VALIDATION_ERROR
 * naming the field. Image references are artifact
 * keys (the API resolved uploads, base64 and URLs to keys).
 */
import { validation } from "../../../core/errors.ts";
import { parseImageGenerate } from "../../../core/job-types/image-generate.ts";
import { VideoAnimateParams } from "../../../core/job-types/video-animate.ts";
import { VideoGenerateParams } from "../job-types.ts";
import { parseParams } from "../../../core/job-types/parse.ts";

type P = Readonly<Record<string, unknown>>;

export interface ImageParams {
  prompt: string;
  negative_prompt?: string;
  width: number;
  height: number;
  seed?: number;
  steps?: number;
  guidance_scale?: number;
  sampler?: string;
  style_preset?: string;
  reference_images: string[];
  return_base64: boolean;
  /** The platform preset the size came from (api/image-platform.ts): the model may scale it to its range. */
  platform?: string;
}

export interface VideoParams {
  prompt: string;
  negative_prompt?: string;
  width: number;
  height: number;
  num_frames: number;
  fps: number;
  steps?: number;
  guidance_scale?: number;
  seed?: number;
  /** Start image (artifact key): image-to-video. */
  image?: string;
}

/** image.generate: the job type's one schema (core/job-types/image-generate.ts, shared with remote-image). */
export function parseImageParams(p: P): ImageParams {
  const { base, v } = parseImageGenerate(p);
  const out: ImageParams = base;
  if (v.style_preset) out.style_preset = v.style_preset;
  if (v.sampler) out.sampler = v.sampler;
  if (v.platform) out.platform = v.platform;
  if (v.steps !== undefined) out.steps = v.steps;
  if (v.guidance_scale !== undefined) out.guidance_scale = v.guidance_scale;
  return out;
}

/** video.generate: its one schema (../job-types.ts); null is absent. */
export function parseVideoParams(p: P): VideoParams {
  const v = parseParams(VideoGenerateParams, p, { nullIsAbsent: true });
  const out: VideoParams = { prompt: v.prompt, width: v.width!, height: v.height!, num_frames: v.num_frames!, fps: v.fps! };
  if (v.negative_prompt) out.negative_prompt = v.negative_prompt;
  out.steps = v.num_inference_steps!;
  out.guidance_scale = v.guidance_scale!;
  if (typeof v.seed === "number") out.seed = v.seed;
  if (v.image !== undefined) out.image = v.image;
  return out;
}

/** video.animate with an image-to-video model: /video/animate's fields as this plugin reads them. */
export interface AnimateParams {
  /** Start image (artifact key). */
  image: string;
  prompt: string;
  /** Absent: the start image's aspect ratio at the model's usual size (jobs/video.ts). */
  width?: number;
  height?: number;
  num_frames: number;
  fps: number;
  seed?: number;
  /** /video/animate fields for camera-motion animation that an image-to-video model has no knob for. */
  ignored: string[];
}

/** Fields of /video/animate that drive Ken Burns camera motion or its encoder, not a diffusion model. */
const CAMERA_ONLY = ["motion", "motion_strength", "quality", "codec"] as const;

/** video.animate: its one schema (core/job-types/video-animate.ts, shared with the video plugin's kenburns); null is absent. */
export function parseAnimateParams(p: P, model: string): AnimateParams {
  const v = parseParams(VideoAnimateParams, p, { nullIsAbsent: true });
  if (!v.prompt || v.prompt.trim().length === 0) {
    // The model animates what the prompt says; without one there is nothing to follow (a rule of the model, not of the type: kenburns needs none).
    throw validation("prompt", "required", `prompt is required with ${model} (image-to-video follows the prompt: describe the motion)`);
  }
  const out: AnimateParams = {
    image: v.image,
    prompt: v.prompt,
    num_frames: v.num_frames!,
    fps: v.fps!,
    // What the request set, not the schema's defaults.
    ignored: CAMERA_ONLY.filter((f) => p[f] !== undefined && p[f] !== null),
  };
  if (v.width !== undefined) out.width = v.width;
  if (v.height !== undefined) out.height = v.height;
  if (typeof v.seed === "number") out.seed = v.seed;
  return out;
}
