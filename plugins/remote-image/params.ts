/**
 * image.generate params as the remote-image plugin reads them, checked like the API's
 * schema (api/routes/generate.ts) so a job submitted straight to the mesh fails as clearly.
 * `reference_images` are artifact keys (the API resolved uploads/base64 to keys).
 */
import { validation } from "../../core/errors.ts";

export interface RemoteImageParams {
  prompt: string;
  negative_prompt?: string;
  width: number;
  height: number;
  seed?: number;
  style_preset?: string;
  reference_images: string[];
  character_id?: string;
  /** Put the image's bytes in the result as `image_base64` (the job record gets that much bigger). */
  return_base64: boolean;
}

function optString(p: Readonly<Record<string, unknown>>, field: string, max: number): string | undefined {
  const v = p[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw validation(field, "string", `${field} must be a string`);
  if (v.length > max) throw validation(field, `maxLength ${max}`, `${field} must be at most ${max} characters`);
  return v;
}

function dim(p: Readonly<Record<string, unknown>>, field: "width" | "height"): number {
  const v = p[field] ?? 1024;
  if (!Number.isInteger(v) || (v as number) < 64 || (v as number) > 4096 || (v as number) % 8 !== 0) {
    throw validation(field, "64..4096, multiple of 8", `${field} must be an integer from 64 to 4096, a multiple of 8`);
  }
  return v as number;
}

export function parseRemoteImageParams(p: Readonly<Record<string, unknown>>): RemoteImageParams {
  const prompt = optString(p, "prompt", 4000);
  if (!prompt || prompt.trim().length === 0) throw validation("prompt", "required", "prompt is required");
  const seed = p.seed;
  if (seed !== undefined && seed !== null && (!Number.isInteger(seed) || (seed as number) < 0 || (seed as number) > 4294967295)) {
    throw validation("seed", "0..4294967295", "seed must be an integer from 0 to 4294967295 or null");
  }
  const refs = p.reference_images ?? [];
  if (!Array.isArray(refs) || refs.length > 8 || refs.some((r) => typeof r !== "string" || r.length === 0)) {
    throw validation("reference_images", "array of artifact keys", "reference_images must be at most 8 resolved image references");
  }
  const rb = p.return_base64 ?? false;
  if (typeof rb !== "boolean") throw validation("return_base64", "boolean", "return_base64 must be true or false");
  const out: RemoteImageParams = { prompt, width: dim(p, "width"), height: dim(p, "height"), reference_images: refs as string[], return_base64: rb };
  const neg = optString(p, "negative_prompt", 2000);
  if (neg) out.negative_prompt = neg;
  const style = optString(p, "style_preset", 100);
  if (style) out.style_preset = style;
  const character = optString(p, "character_id", 100);
  if (character) out.character_id = character;
  if (typeof seed === "number") out.seed = seed;
  return out;
}
