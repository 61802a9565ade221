/**
 * The API key of this tab (sessionStorage: gone when the tab closes, never in a cookie the
 * browser would send by itself) and requests made with it.
 */
const KEY = "farm.api_key";

export const session = {
  key(): string | null {
    return sessionStorage.getItem(KEY);
  },
  setKey(k: string): void {
    sessionStorage.setItem(KEY, k);
  },
  clear(): void {
    sessionStorage.removeItem(KEY);
  },
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const k = session.key();
  return k ? { ...extra, authorization: `Bearer ${k}` } : extra;
}

/** A JSON API call; errors come back as the API's envelope, thrown as ApiError with its message. */
export async function api<T = Record<string, unknown>>(method: string, path: string): Promise<T> {
  const res = await fetch(path, { method, headers: headers() });
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  if (!res.ok) {
    const env = (body ?? {}) as { code?: string; message?: string };
    throw new ApiError(res.status, env.code ?? `HTTP_${res.status}`, env.message ?? (text.slice(0, 200) || res.statusText));
  }
  return body as T;
}

export function feedUrl(): string {
  const k = session.key();
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  // Browsers cannot set headers on a WebSocket: the key goes in the query, which the server
  // accepts on upgrades only.
  return `${proto}//${location.host}/ws/farm${k ? `?api_key=${encodeURIComponent(k)}` : ""}`;
}

const blobs = new Map<string, Promise<string>>();

/** A URL the browser may load as it is: auth is off, or the API signed it (an expiring link). */
export const directUrl = (url: string) => !session.key() || /[?&]sig=/.test(url);

/**
 * A URL the page can put in <img>/<video>/<audio>. With a key, /outputs needs the header, which
 * media elements cannot send: the file is fetched with it and shown from a blob: URL.
 */
export function mediaSrc(url: string): Promise<string> {
  if (directUrl(url)) return Promise.resolve(url);
  let b = blobs.get(url);
  if (!b) {
    b = fetch(url, { headers: headers() }).then(async (res) => {
      if (!res.ok) throw new ApiError(res.status, `HTTP_${res.status}`, `could not load ${url}`);
      return URL.createObjectURL(await res.blob());
    });
    b.catch(() => blobs.delete(url));
    blobs.set(url, b);
  }
  return b;
}
