/**
 * image.generate and video.generate params as this plugin reads them. image.generate is
 * checked against its one schema (core/job-types/image-generate.ts); the video ones like
 * the API's schemas (api/routes/video.ts), so a job submitted straight to the mesh fails
 * as clearly: VALIDATION_ERROR naming the field. Image references are artifact
 * keys (the API resolved uploads, base64 and URLs to keys).
 */
import { FarmError } from "../../../core/errors.ts";
import { ImageGenerateParams } from "../../../core/job-types/image-generate.ts";
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

const bad = (field: string, constraint: string, message: string) => new FarmError("VALIDATION_ERROR", message, { field, constraint });

function str(p: P, field: string, max: number): string | undefined {
  const v = p[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw bad(field, "string", `${field} must be a string`);
  if (v.length > max) throw bad(field, `maxLength ${max}`, `${field} must be at most ${max} characters`);
  return v;
}

function int(p: P, field: string, min: number, max: number, dflt?: number, multipleOf = 1): number | undefined {
  const v = p[field] ?? dflt;
  if (v === undefined || v === null) return undefined;
  if (!Number.isInteger(v) || (v as number) < min || (v as number) > max || (v as number) % multipleOf !== 0) {
    const m = multipleOf > 1 ? `, a multiple of ${multipleOf}` : "";
    throw bad(field, `${min}..${max}${m}`, `${field} must be an integer from ${min} to ${max}${m}`);
  }
  return v as number;
}

function num(p: P, field: string, min: number, max: number): number | undefined {
  const v = p[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) throw bad(field, `${min}..${max}`, `${field} must be a number from ${min} to ${max}`);
  return v;
}

function prompt(p: P): string {
  const v = str(p, "prompt", 4000);
  if (!v || v.trim().length === 0) throw bad("prompt", "required", "prompt is required");
  return v;
}

function seed(p: P): number | undefined {
  return int(p, "seed", 0, 4294967295);
}

function key(v: unknown, field: string): string {
  if (typeof v !== "string" || v.length === 0) throw bad(field, "artifact key", `${field} must be a resolved image reference`);
  return v;
}

/** image.generate: the job type's one schema (core/job-types/image-generate.ts, shared with remote-image). */
export function parseImageParams(p: P): ImageParams {
  // null is "absent" for the optional fields (a JSON seed: null means "pick one").
  const v = parseParams(ImageGenerateParams, p, { nullIsAbsent: true });
  const out: ImageParams = {
    prompt: v.prompt,
    width: v.width!,
    height: v.height!,
    reference_images: v.reference_images ?? [],
    return_base64: v.return_base64!,
  };
  if (v.negative_prompt) out.negative_prompt = v.negative_prompt;
  if (v.style_preset) out.style_preset = v.style_preset;
  if (v.sampler) out.sampler = v.sampler;
  if (v.platform) out.platform = v.platform;
  if (typeof v.seed === "number") out.seed = v.seed;
  if (v.steps !== undefined) out.steps = v.steps;
  if (v.guidance_scale !== undefined) out.guidance_scale = v.guidance_scale;
  return out;
}

export function parseVideoParams(p: P): VideoParams {
  const out: VideoParams = {
    prompt: prompt(p),
    width: int(p, "width", 64, 2048, 768, 32)!,
    height: int(p, "height", 64, 2048, 512, 32)!,
    num_frames: int(p, "num_frames", 1, 257, 121)!,
    fps: int(p, "fps", 1, 60, 24)!,
  };
  const neg = str(p, "negative_prompt", 2000);
  if (neg) out.negative_prompt = neg;
  const steps = int(p, "num_inference_steps", 1, 100);
  if (steps !== undefined) out.steps = steps;
  const g = num(p, "guidance_scale", 0, 20);
  if (g !== undefined) out.guidance_scale = g;
  const s = seed(p);
  if (s !== undefined) out.seed = s;
  if (p.image !== undefined && p.image !== null) out.image = key(p.image, "image");
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

export function parseAnimateParams(p: P, model: string): AnimateParams {
  if (p.image === undefined || p.image === null) throw bad("image", "required", "image is required");
  const text = str(p, "prompt", 4000);
  if (!text || text.trim().length === 0) {
    // The model animates what the prompt says; without one there is nothing to follow.
    throw bad("prompt", "required", `prompt is required with ${model} (image-to-video follows the prompt: describe the motion)`);
  }
  const out: AnimateParams = {
    image: key(p.image, "image"),
    prompt: text,
    num_frames: int(p, "num_frames", 2, 2000, 121)!,
    fps: int(p, "fps", 1, 60, 24)!,
    ignored: CAMERA_ONLY.filter((f) => p[f] !== undefined && p[f] !== null),
  };
  const w = int(p, "width", 16, 3840);
  const h = int(p, "height", 16, 3840);
  if (w !== undefined) out.width = w;
  if (h !== undefined) out.height = h;
  const s = seed(p);
  if (s !== undefined) out.seed = s;
  return out;
}
