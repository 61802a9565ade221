/**
 * HTTP client for the Suno API bridge (gcui-art/suno-api and compatibles).
 *
 * Every call is bounded by `timeout_ms` and by the job's signal. Failures become
 * FarmError EXTERNAL_API_ERROR with details {field: "suno", constraint, status?}:
 * - unreachable (connection refused / DNS / reset), timeout (no full answer in time);
 * - http_status: 5xx and 429 keep the catalog's retryable=true; other 4xx (bad API key,
 *   rejected prompt) are not retryable: the same request would fail again;
 * - invalid_response: not JSON, or JSON of the wrong shape.
 * Cancellation (the job's signal) becomes JOB_CANCELLED.
 */
import type { SunoConfig } from "./config.ts";
import { bridgeError, cancelled } from "./errors.ts";
import { parseClipList, type SunoClip } from "./clips.ts";

export interface SunoCredits {
  credits_left: number;
  monthly_limit: number;
  monthly_usage: number;
}

export interface SunoLyrics {
  title: string;
  text: string;
}

/** Body of POST /api/generate (simple) or /api/custom_generate (custom). */
export interface GenerateRequest {
  prompt: string;
  make_instrumental: boolean;
  wait_audio: boolean;
  model: string;
  /** custom only: style tags. */
  tags?: string;
  /** custom only. */
  title?: string;
}

/** Longest bridge error text copied into our message (bridges sometimes answer whole HTML pages). */
const MAX_ERROR_TEXT = 300;

export class SunoBridgeClient {
  constructor(
    private readonly cfg: SunoConfig,
    private readonly signal: AbortSignal,
  ) {}

  async credits(): Promise<SunoCredits> {
    const body = await this.request("GET", "/api/get_limit");
    const b = body as Partial<Record<keyof SunoCredits, unknown>> | null;
    const out: Partial<SunoCredits> = {};
    for (const k of ["credits_left", "monthly_limit", "monthly_usage"] as const) {
      const v = b && typeof b === "object" ? b[k] : undefined;
      if (typeof v !== "number" || !Number.isFinite(v))
        throw bridgeError(`Suno bridge answered GET /api/get_limit without a numeric ${k}`, "invalid_response", { endpoint: "/api/get_limit" });
      out[k] = v;
    }
    return out as SunoCredits;
  }

  async lyrics(prompt: string): Promise<SunoLyrics> {
    const body = await this.request("POST", "/api/generate_lyrics", { prompt });
    const b = body as { text?: unknown; title?: unknown } | null;
    if (!b || typeof b !== "object" || typeof b.text !== "string" || b.text.trim() === "") {
      throw bridgeError("Suno bridge answered POST /api/generate_lyrics without lyrics text", "invalid_response", { endpoint: "/api/generate_lyrics" });
    }
    return { text: b.text, title: typeof b.title === "string" ? b.title : "" };
  }

  async generate(mode: "simple" | "custom", req: GenerateRequest): Promise<SunoClip[]> {
    const endpoint = mode === "custom" ? "/api/custom_generate" : "/api/generate";
    const clips = parseClipList(await this.request("POST", endpoint, req), endpoint);
    if (clips.length === 0) throw bridgeError(`Suno bridge answered POST ${endpoint} with no clips`, "invalid_response", { endpoint });
    return clips;
  }

  async clips(ids: readonly string[]): Promise<SunoClip[]> {
    const endpoint = `/api/get?ids=${ids.map(encodeURIComponent).join(",")}`;
    return parseClipList(await this.request("GET", endpoint), "/api/get");
  }

  /** One JSON call. Returns the parsed body of a 2xx answer; throws FarmError otherwise. */
  async request(method: "GET" | "POST", pathAndQuery: string, body?: unknown): Promise<unknown> {
    if (this.signal.aborted) throw cancelled(this.signal);
    const endpoint = pathAndQuery.split("?")[0] ?? pathAndQuery;
    const timeout = AbortSignal.timeout(this.cfg.timeout_ms);
    const headers: Record<string, string> = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (this.cfg.api_key) headers.authorization = `Bearer ${this.cfg.api_key}`;
    let status = 0;
    let text: string;
    try {
      const res = await fetch(this.cfg.base_url + pathAndQuery, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.any([this.signal, timeout]),
        redirect: "follow",
      });
      status = res.status;
      text = await res.text();
    } catch (err) {
      if (this.signal.aborted) throw cancelled(this.signal);
      if (timeout.aborted) {
        throw bridgeError(`Suno bridge did not answer ${method} ${endpoint} within ${this.cfg.timeout_ms} ms`, "timeout", {
          endpoint,
          timeout_ms: this.cfg.timeout_ms,
        });
      }
      const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
      const why =
        typeof cause?.code === "string" ? cause.code : typeof cause?.message === "string" ? cause.message : err instanceof Error ? err.message : String(err);
      throw bridgeError(`Suno bridge at ${this.cfg.base_url} is unreachable (${why})`, "unreachable", { endpoint, reason: why });
    }
    if (status < 200 || status > 299) {
      const snippet = bridgeMessage(text);
      const retryable = status >= 500 || status === 429 ? undefined : false;
      throw bridgeError(
        `Suno bridge answered ${method} ${endpoint} with HTTP ${status}${snippet ? `: ${snippet}` : ""}`,
        "http_status",
        { endpoint, status },
        retryable,
      );
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw bridgeError(
        `Suno bridge answered ${method} ${endpoint} with something that is not JSON: ${JSON.stringify(text.slice(0, 80))}`,
        "invalid_response",
        { endpoint, status },
      );
    }
  }
}

/** The bridge's own error text: `{error}` / `{message}` / `{detail}` of a JSON body, else the raw text, shortened. */
function bridgeMessage(text: string): string {
  let msg = text;
  try {
    const j = JSON.parse(text) as { error?: unknown; message?: unknown; detail?: unknown };
    const m = j.error ?? j.message ?? j.detail;
    if (typeof m === "string") msg = m;
    else if (m && typeof m === "object" && typeof (m as { message?: unknown }).message === "string") msg = (m as { message: string }).message;
  } catch {
    /* not JSON: keep the text */
  }
  msg = msg.replace(/\s+/g, " ").trim();
  return msg.length > MAX_ERROR_TEXT ? `${msg.slice(0, MAX_ERROR_TEXT)}…` : msg;
}
