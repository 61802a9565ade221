/**
 * music.generate params, validated again on the agent (jobs can also arrive through
 * POST /api/v1/jobs without the route's schema). Every problem is a VALIDATION_ERROR
 * naming the field. The bounds are the route's (api/routes/music.ts).
 */
import { randomInt } from "node:crypto";
import { validation } from "../../core/errors.ts";

export const MAX_DURATION_S = 300;
export const MAX_SEED = 2 ** 32 - 1;

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

function number(p: P, field: string, dflt: number, ok: (v: number) => boolean, constraint: string, integer = false): number {
  const v = p[field];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== "number" || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || !ok(v)) {
    throw validation(field, constraint, `${field} must be ${integer ? "an integer" : "a number"} ${constraint}`);
  }
  return v;
}

export function parseMusicParams(p: P, defaults: { guidanceScale: number; topK: number }): MusicParams {
  const prompt = p.prompt;
  if (typeof prompt !== "string" || prompt.trim().length === 0 || prompt.length > 2000) {
    throw validation("prompt", "1-2000 characters", "prompt must be a non-empty string of at most 2000 characters");
  }
  const seedRaw = p.seed;
  const seedGiven = seedRaw !== undefined && seedRaw !== null;
  return {
    prompt,
    duration: number(p, "duration", 30, (v) => v > 0 && v <= MAX_DURATION_S, `in (0, ${MAX_DURATION_S}] seconds`),
    temperature: number(p, "temperature", 1, (v) => v > 0 && v <= 5, "in (0, 5]"),
    topK: number(p, "top_k", defaults.topK, (v) => v >= 0 && v <= 2048, "in [0, 2048] (0 = off)", true),
    topP: number(p, "top_p", 0, (v) => v >= 0 && v <= 1, "in [0, 1] (0 = off)"),
    guidanceScale: number(p, "guidance_scale", defaults.guidanceScale, (v) => v >= 0 && v <= 20, "in [0, 20] (<= 1 = off)"),
    seed: seedGiven ? number(p, "seed", 0, (v) => v >= 0 && v <= MAX_SEED, `in [0, ${MAX_SEED}]`, true) : randomInt(0, 2 ** 31),
    seedGiven,
  };
}
