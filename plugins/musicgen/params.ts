/**
 * music.generate params, validated again on the agent (jobs can also arrive through
 * POST /api/v1/jobs without the route's schema). Every problem is a VALIDATION_ERROR
 * naming the field. The bounds are the route's (api/routes/music.ts).
 */
import { randomInt } from "node:crypto";
import { validation } from "../../core/errors.ts";
import { parseParams } from "../../core/job-types/parse.ts";
import { MusicParams as MusicSchema } from "./job-types.ts";

export { MAX_DURATION_S, MAX_SEED } from "./job-types.ts";

export interface MusicParams {
  prompt: string;
  duration: number;
  temperature: number;
  topK: number;
  topP: number;
  guidanceScale: number;
  seed: number;
  /** True when the caller gave the seed (false: drawn here, still reported). */
  seedGiven: boolean;
}

type P = Readonly<Record<string, unknown>>;

/** `defaults`: the model's generation config, for top_k and guidance_scale left out (or null). */
export function parseMusicParams(p: P, defaults: { guidanceScale: number; topK: number }): MusicParams {
  const q: Record<string, unknown> = { ...p };
  q.top_k ??= defaults.topK;
  q.guidance_scale ??= defaults.guidanceScale;
  // null meant "default" (seed: "draw one") before the schema existed; direct callers may still send it.
  const v = parseParams(MusicSchema, q, { nullIsAbsent: true });
  // A schema cannot say "not only whitespace" readably.
  if (v.prompt.trim().length === 0) throw validation("prompt", "1-2000 characters", "prompt must be a non-empty string of at most 2000 characters");
  const seedGiven = v.seed !== undefined && v.seed !== null;
  return {
    prompt: v.prompt,
    duration: v.duration!,
    temperature: v.temperature!,
    topK: v.top_k!,
    topP: v.top_p!,
    guidanceScale: v.guidance_scale!,
    seed: seedGiven ? v.seed! : randomInt(0, 2 ** 31),
    seedGiven,
  };
}
