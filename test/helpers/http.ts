/** Small HTTP + WebSocket helpers for tests against a running API. */
import WebSocket from "ws";

export interface HttpResult<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

export async function http<T = Record<string, unknown>>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<HttpResult<T>> {
  const res = await fetch(base + path, {
    method,
    headers: { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* raw */
  }
  return { status: res.status, body: parsed as T, headers: res.headers };
}

/** Poll a job until it is terminal (or the timeout passes); returns the last view. */
export async function waitJob(base: string, jobId: string, timeoutMs = 30_000, headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  let last: Record<string, unknown> = {};
  while (Date.now() < deadline) {
    last = (await http(base, "GET", `/api/v1/jobs/${jobId}`, undefined, headers)).body;
    if (["completed", "failed", "cancelled"].includes(String(last.status))) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`job ${jobId} not finished after ${timeoutMs} ms: ${JSON.stringify(last)}`);
}

/** Wait until a job reaches a status (e.g. running). */
export async function waitStatus(base: string, jobId: string, status: string, timeoutMs = 30_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  let last: Record<string, unknown> = {};
  while (Date.now() < deadline) {
    last = (await http(base, "GET", `/api/v1/jobs/${jobId}`)).body;
    if (last.status === status) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`job ${jobId} never reached ${status}: ${JSON.stringify(last)}`);
}

/** Collect WebSocket messages until the server closes or the timeout passes. */
export function collectWs(
  url: string,
  timeoutMs = 30_000,
  headers: Record<string, string> = {},
): Promise<{ messages: Record<string, unknown>[]; closeCode: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const messages: Record<string, unknown>[] = [];
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`websocket ${url} still open after ${timeoutMs} ms; got ${JSON.stringify(messages)}`));
    }, timeoutMs);
    ws.on("message", (d) => messages.push(JSON.parse(d.toString()) as Record<string, unknown>));
    ws.on("close", (code) => {
      clearTimeout(timer);
      resolve({ messages, closeCode: code });
    });
    ws.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
