/**
 * enhance.prompt, defined once (core/job-types/define.ts): the params schema the manifest
 * advertises (the coordinator checks submissions against it) and the API routes' bodies
 * derive from (api/routes/enhance.ts). Pure data, loaded by the API.
 *
 * `style` and `platform` name one of the presets (core/data/styles.yaml, platforms.yaml;
 * a platform also by its name without the aspect suffix, core/platforms.ts) under the
 * forgiving rule of core/job-types/names.ts, the same rule the plugin's lookups use, so an
 * unknown name is a 400 at submit (no failed job) and any spelling the schema accepts is found. The plugin's own parse
 * (params.ts) stays more forgiving than this schema for direct callers (trims and
 * lower-cases enum values) and checks
 * the cross-field rules (scene_index with scene_count, index < count).
 */
import { Type } from "typebox";
import { defineJobType, StringEnum } from "../../core/job-types/define.ts";
import { NameOf } from "../../core/job-types/names.ts";
import { styleNames } from "../../core/styles.ts";
import { platformNameForms, platformSizes } from "../../core/platforms.ts";

export const PROMPT_MAX_CHARS = 2000;
export const ENHANCEMENT_LEVELS = ["quick", "standard", "full"] as const;
export const DEFAULT_LEVEL = "full";
export const ENGINES = ["rules", "llm"] as const;

export const EnhanceParams = Type.Object({
  prompt: Type.String({ minLength: 1, maxLength: PROMPT_MAX_CHARS, description: "The idea to enhance" }),
  style: Type.Optional(NameOf(styleNames(), { description: "A style preset name (GET /api/v1/enhance/styles); case, spaces and hyphens are ignored" })),
  platform: Type.Optional(
    NameOf(
      platformSizes().flatMap((p) => platformNameForms(p.name)),
      // The error lists the canonical names; the bare forms ("tiktok") are accepted spellings.
      { examples: platformSizes().map((p) => p.name), description: 'Target platform, e.g. "YouTube (16:9)" or "tiktok"; case, spaces and hyphens are ignored' },
    ),
  ),
  enhancement_level: Type.Optional(StringEnum(ENHANCEMENT_LEVELS, { default: DEFAULT_LEVEL })),
  include_negative: Type.Optional(Type.Boolean({ default: true })),
  scene_index: Type.Optional(Type.Integer({ minimum: 0, maximum: 10000, description: "Position of this scene in a music video (stage 5)" })),
  scene_count: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })),
  engine: Type.Optional(
    StringEnum(ENGINES, { description: "rules (default, deterministic) or llm (configured OpenAI-compatible endpoint, falls back to rules per stage)" }),
  ),
});

export const ENHANCE_PROMPT = defineJobType({
  type: "enhance.prompt",
  description: "Enhance a prompt (concept, scene, visual, cinematic, narrative, technical, consistency)",
  params: EnhanceParams,
});
