/**
 * Validates an enhance.prompt job's params (API_SPEC §1) into an EnhanceInput.
 * Every problem is a VALIDATION_ERROR naming the field; enum errors list the valid values.
 */
import { validation } from "../../core/errors.ts";
import { findPlatform, findStyle, knowledgeBase } from "./knowledge-base.ts";
import type { EnhanceInput, EnhancementLevel, PlatformSpec, StylePreset } from "./types.ts";

import { DEFAULT_LEVEL as LEVEL_DEFAULT, ENGINES, ENHANCEMENT_LEVELS, PROMPT_MAX_CHARS } from "./job-types.ts";

// The bounds, enums and defaults are job-types.ts's (the API's body and the coordinator's
// check use the same); this parse is more forgiving (case, spaces, nulls) for direct callers.
export { PROMPT_MAX_CHARS } from "./job-types.ts";
export const DEFAULT_STYLE = "Cinematic";
export const DEFAULT_PLATFORM = "YouTube (16:9)";
export const DEFAULT_LEVEL: EnhancementLevel = LEVEL_DEFAULT;
const LEVELS: readonly EnhancementLevel[] = ENHANCEMENT_LEVELS;

function optionalString(params: Record<string, unknown>, field: string): string | undefined {
  const v = params[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw validation(field, "type", `${field} must be a string`);
  return v;
}

function optionalInt(params: Record<string, unknown>, field: string, min: number): number | undefined {
  const v = params[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min) throw validation(field, "integer", `${field} must be an integer >= ${min}`);
  return v;
}

/** Parses raw job params; unknown extra keys are ignored (the front door may add its own). */
export function parseEnhanceParams(params: Record<string, unknown>): EnhanceInput {
  return parseEnhanceRequest(params).input;
}

/** A parsed request with the style and platform its names resolved to. */
export interface EnhanceRequest {
  input: EnhanceInput;
  style: StylePreset;
  platform: PlatformSpec;
}

/** parseEnhanceParams, also returning the presets it found, so the pipeline need not look them up again. */
export function parseEnhanceRequest(params: Record<string, unknown>): EnhanceRequest {
  const raw = params["prompt"];
  if (raw === undefined || raw === null) throw validation("prompt", "required", "prompt is required");
  if (typeof raw !== "string") throw validation("prompt", "type", "prompt must be a string");
  if (raw.length > PROMPT_MAX_CHARS) throw validation("prompt", "maxLength", `prompt must be at most ${PROMPT_MAX_CHARS} characters (got ${raw.length})`);
  const prompt = raw.replace(/\s+/g, " ").trim();
  if (prompt.length === 0) throw validation("prompt", "minLength", "prompt must not be empty");
  if (!/[\p{L}\p{N}]/u.test(prompt)) throw validation("prompt", "pattern", "prompt must contain at least one word");

  const styleName = optionalString(params, "style") ?? DEFAULT_STYLE;
  const style = findStyle(styleName);
  if (!style) {
    const allowed = knowledgeBase().styles.map((s) => s.name);
    throw validation("style", "enum", `style '${styleName}' is not a preset; valid styles: ${allowed.join(", ")}`, { allowed });
  }

  const platformName = optionalString(params, "platform") ?? DEFAULT_PLATFORM;
  const platform = findPlatform(platformName);
  if (!platform) {
    const allowed = knowledgeBase().platforms.map((p) => p.name);
    throw validation("platform", "enum", `platform '${platformName}' is not supported; valid platforms: ${allowed.join(", ")}`, { allowed });
  }

  const levelRaw = optionalString(params, "enhancement_level") ?? DEFAULT_LEVEL;
  const level = LEVELS.find((l) => l === levelRaw.trim().toLowerCase());
  if (!level) throw validation("enhancement_level", "enum", `enhancement_level must be one of: ${LEVELS.join(", ")}`, { allowed: LEVELS });

  const neg = params["include_negative"];
  if (neg !== undefined && neg !== null && typeof neg !== "boolean") throw validation("include_negative", "type", "include_negative must be true or false");

  const sceneIndex = optionalInt(params, "scene_index", 0);
  const sceneCount = optionalInt(params, "scene_count", 1);
  if ((sceneIndex === undefined) !== (sceneCount === undefined)) {
    const missing = sceneIndex === undefined ? "scene_index" : "scene_count";
    throw validation(missing, "required", "scene_index and scene_count must be given together");
  }
  if (sceneIndex !== undefined && sceneCount !== undefined && sceneIndex >= sceneCount) {
    throw validation("scene_index", "range", `scene_index (0-based) must be less than scene_count (${sceneCount})`);
  }

  const engineRaw = optionalString(params, "engine");
  const engine = engineRaw === undefined ? undefined : ENGINES.find((e) => e === engineRaw.trim().toLowerCase());
  if (engineRaw !== undefined && !engine) throw validation("engine", "enum", `engine must be one of: ${ENGINES.join(", ")}`, { allowed: [...ENGINES] });

  const input: EnhanceInput = {
    prompt,
    style: style.name,
    platform: platform.name,
    enhancement_level: level,
    include_negative: neg === undefined || neg === null ? true : neg,
  };
  if (sceneIndex !== undefined && sceneCount !== undefined) {
    input.scene_index = sceneIndex;
    input.scene_count = sceneCount;
  }
  if (engine) input.engine = engine;
  return { input, style, platform };
}
