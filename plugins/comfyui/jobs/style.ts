/**
 * style_preset for ComfyUI prompts: the same presets the prompt enhancer offers (one data
 * file, core/data/styles.yaml, read through core/styles.ts), applied the way a person would in
 * ComfyUI: the preset's signature keywords appended to the prompt, its negatives to the
 * negative prompt. Names are matched under core/job-types/names.ts's rule (the schema's);
 * an unknown preset is VALIDATION_ERROR listing the known ones.
 */
import { FarmError } from "../../../core/errors.ts";
import { findStyleSummary, styleNames } from "../../../core/styles.ts";

export function applyStyle(preset: string | undefined, prompt: string, negative: string | undefined): { prompt: string; negative_prompt?: string } {
  if (!preset) return negative === undefined ? { prompt } : { prompt, negative_prompt: negative };
  const s = findStyleSummary(preset);
  if (!s)
    throw new FarmError("VALIDATION_ERROR", `unknown style_preset '${preset}' (one of: ${styleNames().join(", ")})`, {
      field: "style_preset",
      constraint: "enum",
      allowed: styleNames(),
    });
  const neg = [negative, ...s.negative].filter((x): x is string => !!x && x.length > 0).join(", ");
  return { prompt: `${prompt}, ${s.keywords.join(", ")}`, negative_prompt: neg || undefined };
}
