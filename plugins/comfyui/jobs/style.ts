/**
 * style_preset for ComfyUI prompts: the same presets the prompt enhancer offers (one data
 * file, plugins/enhance/data/styles.yaml, read as data), applied the way a person would in
 * ComfyUI: the preset's signature keywords appended to the prompt, its negatives to the
 * negative prompt. An unknown preset is VALIDATION_ERROR listing the known ones.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";
import { FarmError } from "../../../core/errors.ts";

const STYLES_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "enhance", "data", "styles.yaml");

interface Style {
  name: string;
  keywords: string[];
  negative: string[];
}

let cache: Style[] | undefined;

function styles(): Style[] {
  if (!cache) {
    const doc = YAML.parse(fs.readFileSync(STYLES_FILE, "utf8")) as { styles?: { name?: unknown; keywords?: unknown; negative?: unknown }[] };
    const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);
    cache = (doc.styles ?? []).filter((s) => typeof s.name === "string").map((s) => ({ name: s.name as string, keywords: strings(s.keywords), negative: strings(s.negative) }));
  }
  return cache;
}

export function applyStyle(preset: string | undefined, prompt: string, negative: string | undefined): { prompt: string; negative_prompt?: string } {
  if (!preset) return negative === undefined ? { prompt } : { prompt, negative_prompt: negative };
  const all = styles();
  const s = all.find((x) => x.name.toLowerCase() === preset.trim().toLowerCase());
  if (!s) throw new FarmError("VALIDATION_ERROR", `unknown style_preset '${preset}' (one of: ${all.map((x) => x.name).join(", ")})`, { field: "style_preset", constraint: "enum", allowed: all.map((x) => x.name) });
  const neg = [negative, ...s.negative].filter((x): x is string => !!x && x.length > 0).join(", ");
  return { prompt: `${prompt}, ${s.keywords.join(", ")}`, negative_prompt: neg || undefined };
}
