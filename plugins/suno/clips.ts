/**
 * Suno clips as the bridge returns them, normalised. Bridges answer either a bare array
 * of clips or `{clips: [...]}`; numbers sometimes arrive as strings and some fields sit
 * under `metadata` (Suno's own shape), so reading is lenient about those and strict
 * only about what we cannot do without: every clip needs a string `id`.
 */
import { bridgeError } from "./errors.ts";

/** Suno's clip states. Anything else a bridge invents is treated as still rendering. */
export type ClipStatus = "submitted" | "queued" | "streaming" | "complete" | "error" | (string & {});

export interface SunoClip {
  id: string;
  title: string;
  status: ClipStatus;
  audio_url: string | null;
  image_url: string | null;
  /** Seconds; null until the clip is complete on most bridges. */
  duration: number | null;
  lyric: string;
  tags: string;
  model_name: string | null;
  /** Suno's reason when status is "error". */
  error_message?: string;
}

export const isTerminal = (c: SunoClip): boolean => c.status === "complete" || c.status === "error";

type Raw = Record<string, unknown>;

const s = (v: unknown): string | null => (typeof v === "string" ? v : null);

function n(v: unknown): number | null {
  const x = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
  return typeof x === "number" && Number.isFinite(x) && x >= 0 ? x : null;
}

function parseClip(raw: unknown, endpoint: string): SunoClip {
  if (!raw || typeof raw !== "object")
    throw bridgeError(`Suno bridge answered ${endpoint} with a clip that is not an object`, "invalid_response", { endpoint });
  const r = raw as Raw;
  const meta = (r.metadata && typeof r.metadata === "object" ? r.metadata : {}) as Raw;
  const id = s(r.id);
  if (!id) throw bridgeError(`Suno bridge answered ${endpoint} with a clip without an id`, "invalid_response", { endpoint });
  const status = s(r.status) ?? "submitted";
  const errorMessage = s(r.error_message) ?? s(meta.error_message) ?? s(r.error);
  return {
    id,
    title: s(r.title) ?? "",
    status,
    audio_url: s(r.audio_url) || null,
    image_url: s(r.image_url) || null,
    duration: n(r.duration) ?? n(meta.duration),
    lyric: s(r.lyric) ?? s(meta.prompt) ?? "",
    tags: s(r.tags) ?? s(meta.tags) ?? "",
    model_name: s(r.model_name) ?? null,
    ...(errorMessage ? { error_message: errorMessage } : {}),
  };
}

/** A list of clips from a generate or get answer. Throws EXTERNAL_API_ERROR invalid_response on garbage. */
export function parseClipList(body: unknown, endpoint: string): SunoClip[] {
  const list = Array.isArray(body) ? body : body && typeof body === "object" && Array.isArray((body as Raw).clips) ? ((body as Raw).clips as unknown[]) : null;
  if (!list) throw bridgeError(`Suno bridge answered ${endpoint} without a list of clips`, "invalid_response", { endpoint });
  return list.map((c) => parseClip(c, endpoint));
}
