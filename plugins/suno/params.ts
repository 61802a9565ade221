/**
 * Job params for suno.generate / suno.lyrics, checked the same way the API's schemas do
 * (API §5), so a job submitted straight to the mesh fails as clearly as an HTTP request.
 * Field names carry no "params." prefix: the API returns them to the client as-is.
 */
import { validation } from "../../core/errors.ts";

export const DEFAULT_SUNO_MODEL = "chirp-v3-5";

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


function str(p: Record<string, unknown>, field: string, opts: { required: boolean; max: number }): string | undefined {
  const v = p[field];
  if (v === undefined || v === null) {
    if (opts.required) throw validation(field, "required", `${field} is required`);
    return undefined;
  }
  if (typeof v !== "string") throw validation(field, "string", `${field} must be a string, got ${JSON.stringify(v)}`);
  if (opts.required && v.trim().length === 0) throw validation(field, "minLength 1", `${field} must not be empty`);
  if (v.length > opts.max) throw validation(field, `maxLength ${opts.max}`, `${field} must be at most ${opts.max} characters, got ${v.length}`);
  return v;
}

function bool(p: Record<string, unknown>, field: string, def: boolean): boolean {
  const v = p[field];
  if (v === undefined || v === null) return def;
  if (typeof v !== "boolean") throw validation(field, "boolean", `${field} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

export function parseGenerateParams(p: Record<string, unknown>): GenerateParams {
  const mode = p.mode ?? "simple";
  if (mode !== "simple" && mode !== "custom") throw validation("mode", "enum simple|custom", `mode must be "simple" or "custom", got ${JSON.stringify(mode)}`);
  const prompt = str(p, "prompt", { required: true, max: 3000 }) as string;
  const style = str(p, "style", { required: false, max: 200 });
  const title = str(p, "title", { required: false, max: 200 });
  const model = str(p, "model", { required: false, max: 50 }) ?? DEFAULT_SUNO_MODEL;
  if (!/^[A-Za-z0-9._-]+$/.test(model)) throw validation("model", "pattern", `model must be a Suno model id such as ${DEFAULT_SUNO_MODEL}, got ${JSON.stringify(model)}`);
  return {
    mode,
    prompt,
    ...(style !== undefined && style.trim() !== "" ? { style } : {}),
    ...(title !== undefined && title.trim() !== "" ? { title } : {}),
    instrumental: bool(p, "instrumental", false),
    wait_audio: bool(p, "wait_audio", true),
    model,
  };
}

export function parseLyricsParams(p: Record<string, unknown>): LyricsParams {
  return { prompt: str(p, "prompt", { required: true, max: 2000 }) as string };
}
