/**
 * One provider request with bounded retries.
 *
 * Retried: 429 (Retry-After honoured, capped at retry_max_ms), 5xx, a timed-out attempt
 * and a network error; each back-off is "full jitter" (a random wait up to
 * retry_base_ms * 2^n, capped), so many agents hitting one rate limit do not retry in
 * step. Not retried: other 4xx (bad key, content policy: asking again gives the same
 * answer) and a 2xx whose body is not JSON.
 * The final failure is EXTERNAL_API_ERROR (502) carrying the provider's own message and
 * HTTP status, marked not retryable so the farm does not repeat the whole series on
 * another node. The key is only ever in a request header, never in a message.
 * Cancel (the task's signal) stops waiting at once: JOB_CANCELLED.
 */
import { FarmError } from "../../core/errors.ts";
import type { RemoteImageConfig } from "./config.ts";
import { errorMessage, type HttpCall } from "./protocols.ts";

export interface ClientDeps {
  /** Wait `ms`; rejects when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  /** [0, 1): the jitter source (tests pass a fixed one). */
  random(): number;
}

export const realClientDeps: ClientDeps = {
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const t = setTimeout(() => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(t);
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
    }),
  random: Math.random,
};

type Retry = { kind: "retry"; what: string; status?: number; retryAfterMs?: number };
type Final = { kind: "final"; error: FarmError };

/** Retry-After as seconds or an HTTP date -> ms from now (undefined when absent/unreadable). */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const s = Number(header);
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const at = Date.parse(header);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

export async function callProvider(
  provider: string,
  call: HttpCall,
  cfg: Pick<RemoteImageConfig, "timeout_ms" | "max_retries" | "retry_base_ms" | "retry_max_ms">,
  signal: AbortSignal,
  deps: ClientDeps = realClientDeps,
  onRetry?: (what: string, waitMs: number, attempt: number) => void,
): Promise<unknown> {
  const attempts = cfg.max_retries + 1;
  let last: Retry | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const r = await attemptOnce(provider, call, cfg.timeout_ms, signal);
    if (r.kind === "ok") return r.body;
    if (r.kind === "final") throw r.error;
    last = r;
    if (attempt === attempts) break;
    const backoff = Math.min(cfg.retry_max_ms, cfg.retry_base_ms * 2 ** (attempt - 1));
    const wait = r.retryAfterMs !== undefined ? Math.min(cfg.retry_max_ms, r.retryAfterMs) : Math.floor(deps.random() * backoff);
    onRetry?.(r.what, wait, attempt);
    try {
      await deps.sleep(wait, signal);
    } catch {
      throw cancelled(provider);
    }
  }
  throw new FarmError(
    "EXTERNAL_API_ERROR",
    `image provider '${provider}' failed: ${last!.what} (gave up after ${attempts} attempt${attempts === 1 ? "" : "s"})`,
    {
      field: "model",
      constraint: "provider",
      provider,
      ...(last!.status !== undefined ? { status: last!.status } : {}),
      attempts,
    },
    false,
  );
}

/** The message with every secret header value (and any 8+ character piece of one) blanked out. */
function redact(msg: string, headers: Record<string, string>): string {
  let out = msg;
  for (const [name, value] of Object.entries(headers)) {
    if (name === "content-type") continue;
    const secret = value.replace(/^Bearer /, "");
    if (secret.length === 0) continue;
    out = out.split(secret).join("***");
    for (let i = 0; i + 8 <= secret.length; i += 4) out = out.split(secret.slice(i, i + 8)).join("***");
  }
  return out;
}

const cancelled = (provider: string) => new FarmError("JOB_CANCELLED", `cancelled while waiting for image provider '${provider}'`);

async function attemptOnce(provider: string, call: HttpCall, timeoutMs: number, signal: AbortSignal): Promise<{ kind: "ok"; body: unknown } | Retry | Final> {
  if (signal.aborted) throw cancelled(provider);
  const timeout = AbortSignal.timeout(timeoutMs);
  let res: Response;
  let text: string;
  try {
    res = await fetch(call.url, { method: "POST", headers: call.headers, body: JSON.stringify(call.body), signal: AbortSignal.any([signal, timeout]) });
    text = await res.text();
  } catch (err) {
    if (signal.aborted) throw cancelled(provider);
    if (timeout.aborted) return { kind: "retry", what: `no answer within ${timeoutMs} ms` };
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : "";
    return { kind: "retry", what: `network error (${err instanceof Error ? err.message : String(err)}${cause})` };
  }
  let body: unknown;
  try {
    body = text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (res.ok) {
    if (body === undefined) {
      return {
        kind: "final",
        error: new FarmError(
          "EXTERNAL_API_ERROR",
          `image provider '${provider}' answered HTTP ${res.status} with a body that is not JSON`,
          { field: "model", constraint: "provider", provider, status: res.status },
          false,
        ),
      };
    }
    return { kind: "ok", body };
  }
  // A provider may echo (part of) the key in its message ("Incorrect API key provided: sk-..."): never pass it on.
  const msg = redact(errorMessage(body) ?? (text.length > 0 && body === undefined ? text.slice(0, 300) : res.statusText), call.headers);
  const what = `HTTP ${res.status}: ${msg}`;
  if (res.status === 429 || res.status >= 500) {
    const ra = retryAfterMs(res.headers.get("retry-after"));
    return { kind: "retry", what, status: res.status, ...(ra !== undefined ? { retryAfterMs: ra } : {}) };
  }
  return {
    kind: "final",
    error: new FarmError(
      "EXTERNAL_API_ERROR",
      `image provider '${provider}' refused the request: ${what}`,
      { field: "model", constraint: "provider", provider, status: res.status },
      false,
    ),
  };
}
