/**
 * Job params for suno.generate / suno.lyrics, checked against the schemas of job-types.ts
 * (the API's body and the coordinator's submit check use the same ones), so a job
 * submitted straight to the mesh fails as clearly as an HTTP request.
 * Field names carry no "params." prefix: the API returns them to the client as-is.
 */
import { validation } from "../../core/errors.ts";
import { parseParams } from "../../core/job-types/parse.ts";
import { GenerateParams as GenerateSchema, LyricsParams as LyricsSchema, DEFAULT_SUNO_MODEL } from "./job-types.ts";

export { DEFAULT_SUNO_MODEL } from "./job-types.ts";

export interface GenerateParams {
  mode: "simple" | "custom";
  /** Song description (simple) or lyrics (custom). 1..3000 characters. */
  prompt: string;
  style?: string;
  title?: string;
  instrumental: boolean;
  wait_audio: boolean;
  model: string;
}

export interface LyricsParams {
  prompt: string;
}

/** A prompt of only spaces passes minLength; Suno would answer an empty song. */
function notBlank(field: string, v: string): string {
  if (v.trim().length === 0) throw validation(field, "minLength 1", `${field} must not be empty`);
  return v;
}

export function parseGenerateParams(p: Record<string, unknown>): GenerateParams {
  const v = parseParams(GenerateSchema, p, { nullIsAbsent: true });
  const { style, title } = v;
  return {
    mode: v.mode ?? "simple",
    prompt: notBlank("prompt", v.prompt),
    // Blank style/title are left out (Suno picks), as before the schema.
    ...(style !== undefined && style.trim() !== "" ? { style } : {}),
    ...(title !== undefined && title.trim() !== "" ? { title } : {}),
    instrumental: v.instrumental ?? false,
    wait_audio: v.wait_audio ?? true,
    model: v.model ?? DEFAULT_SUNO_MODEL,
  };
}

export function parseLyricsParams(p: Record<string, unknown>): LyricsParams {
  return { prompt: notBlank("prompt", parseParams(LyricsSchema, p, { nullIsAbsent: true }).prompt) };
}
