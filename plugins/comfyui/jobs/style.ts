/**
 * style_preset for ComfyUI prompts: the same presets the prompt enhancer offers (one data
 * file, core/data/styles.yaml, read through core/styles.ts), applied the way a person would in
 * ComfyUI: the preset's signature keywords appended to the prompt, its negatives to the
 * negative prompt. An unknown preset is VALIDATION_ERROR listing the known ones.
 */
import { FarmError } from "../../../core/errors.ts";
import { styleSummaries as styles } from "../../../core/styles.ts";

export function applyStyle(preset: string | undefined, prompt: string, negative: string | undefined): { prompt: string; negative_prompt?: string } {
  if (!preset) return negative === undefined ? { prompt } : { prompt, negative_prompt: negative };
  const all = styles();
  const s = all.find((x) => x.name.toLowerCase() === preset.trim().toLowerCase());
  if (!s)
    throw new FarmError("VALIDATION_ERROR", `unknown style_preset '${preset}' (one of: ${all.map((x) => x.name).join(", ")})`, {
      field: "style_preset",
      constraint: "enum",
      allowed: all.map((x) => x.name),
    });
  const neg = [negative, ...s.negative].filter((x): x is string => !!x && x.length > 0).join(", ");
  return { prompt: `${prompt}, ${s.keywords.join(", ")}`, negative_prompt: neg || undefined };
}
