/**
 * image.generate, defined once for every plugin that serves it. Two do: ComfyUI (SDXL,
 * Flux; plugins/comfyui) and a remote provider (plugins/remote-image); the task's model
 * picks one (node-agent/plugin-loader.ts), and agents advertise one params schema per type,
 * refusing to start when two plugins disagree. So the params schema belongs to the job
 * type, not to either plugin: it lives here, in core/, which both plugins and the API may
 * import (eslint.config.js: a plugin's code never imports another plugin, and api/ reads
 * plugins only through their job-types.ts). Each plugin adds its own models with
 * `withModels` (ComfyUI's come from its workflow templates, the remote plugin's from the
 * operator's config), keeping this params object as it is.
 *
 * The schema is open (no additionalProperties: false): parent flows add fields a plugin
 * ignores (the character flow's `mode`). The API route closes it (api/job-type-body.ts).
 */
import { Type, type Static } from "typebox";
import { platformSizes } from "../platforms.ts";
import { styleNames } from "../styles.ts";
import { defineJobType } from "./define.ts";
import { NameOf } from "./names.ts";
import { parseParams } from "./parse.ts";

/** The model /generate/image uses when the request names none (ComfyUI's SDXL base). */
export const IMAGE_DEFAULT_MODEL = "sdxl-base-1.0";
export const IMAGE_PROMPT_MAX = 4000;
export const MAX_REFERENCE_IMAGES = 8;

const side = (name: string) =>
  Type.Optional(
    Type.Integer({ minimum: 64, maximum: 4096, multipleOf: 8, default: 1024, description: `Default 1024, or the platform's ${name} (/generate/image)` }),
  );

export const ImageGenerateParams = Type.Object({
  prompt: Type.String({ minLength: 1, maxLength: IMAGE_PROMPT_MAX, pattern: "\\S", description: "What to draw (not only spaces)" }),
  negative_prompt: Type.Optional(Type.String({ maxLength: 2000 })),
  width: side("width"),
  height: side("height"),
  platform: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 100,
      description: `Platform preset for the size when width/height are not given (explicit ones win): ${platformSizes()
        .map((p) => p.name)
        .join(", ")}`,
    }),
  ),
  style_preset: Type.Optional(NameOf(styleNames(), { description: "A style preset (GET /api/v1/enhance/styles); case, spaces and hyphens are ignored" })),
  reference_images: Type.Optional(
    Type.Array(Type.String({ minLength: 1, description: "Artifact key of a resolved image reference" }), { maxItems: MAX_REFERENCE_IMAGES, default: [] }),
  ),
  character_id: Type.Optional(Type.String({ maxLength: 100 })),
  seed: Type.Optional(Type.Unsafe<number | null>({ type: ["integer", "null"], minimum: 0, maximum: 4294967295 })),
  steps: Type.Optional(Type.Integer({ minimum: 1, maximum: 150 })),
  guidance_scale: Type.Optional(Type.Number({ minimum: 0, maximum: 30 })),
  sampler: Type.Optional(Type.String({ maxLength: 100, description: "ComfyUI sampler name (mesh callers; not on the API)" })),
  return_base64: Type.Optional(
    Type.Boolean({ default: false, description: "Also return the image's bytes as image_base64 (the image is always stored and served at image_url)" }),
  ),
});

/** The job type without models: each serving plugin adds its own (withModels). */
export const IMAGE_GENERATE = defineJobType({
  type: "image.generate",
  description: "Generate one image from a prompt",
  params: ImageGenerateParams,
});

/** The fields every image.generate plugin reads, in the form it reads them. */
export interface ImageGenerateBase {
  prompt: string;
  negative_prompt?: string;
  width: number;
  height: number;
  seed?: number;
  reference_images: string[];
  return_base64: boolean;
}

/**
 * Parses image.generate params against the one schema and returns the shared fields (`base`)
 * beside the whole parsed value (`v`) for each plugin's own extras. null is "absent" for the
 * optional fields: a JSON seed of null means "pick one".
 */
export function parseImageGenerate(p: Readonly<Record<string, unknown>>): { base: ImageGenerateBase; v: Static<typeof ImageGenerateParams> } {
  const v = parseParams(ImageGenerateParams, p, { nullIsAbsent: true });
  const base: ImageGenerateBase = {
    prompt: v.prompt,
    width: v.width!,
    height: v.height!,
    reference_images: v.reference_images ?? [],
    return_base64: v.return_base64!,
  };
  if (v.negative_prompt) base.negative_prompt = v.negative_prompt;
  if (typeof v.seed === "number") base.seed = v.seed;
  return { base, v };
}
