/**
 * image.generate params as the remote-image plugin reads them: checked against the job
 * type's one schema (core/job-types/image-generate.ts, shared with ComfyUI), which the
 * coordinator already checked at submit, because tasks also reach the plugin straight from
 * the mesh. `reference_images` are artifact keys (the API resolved uploads/base64 to keys).
 */
import { parseImageGenerate } from "../../core/job-types/image-generate.ts";
import { findStyleSummary } from "../../core/styles.ts";

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

export function parseRemoteImageParams(p: Readonly<Record<string, unknown>>): RemoteImageParams {
  const { base, v } = parseImageGenerate(p);
  const out: RemoteImageParams = base;
  // The preset's own name in the provider's prompt, however the request spelt it.
  if (v.style_preset) out.style_preset = findStyleSummary(v.style_preset)?.name ?? v.style_preset;
  if (v.character_id) out.character_id = v.character_id;
  return out;
}
