/**
 * One delivery attempt: POST the body to the vetted address (the connection goes to the
 * address checked, as for URL inputs), no redirects followed (a 3xx is a failed attempt:
 * following it would let a receiver bounce the farm to another host), a whole-attempt
 * timeout, and the answer's body discarded.
 */
import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";

export interface AttemptResult {
  status?: number;
  error?: string;
  ms: number;
}

export function postOnce(
  url: URL,
  pinned: { address: string; family: number },
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<AttemptResult> {
  const started = performance.now();
  const lookup = ((_host: string, opts: { all?: boolean }, cb: (...args: unknown[]) => void) => {
    if (opts?.all) cb(null, [{ address: pinned.address, family: pinned.family }]);
    else cb(null, pinned.address, pinned.family);
  }) as unknown as LookupFunction;
  const mod = url.protocol === "https:" ? https : http;
  const ms = () => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    const req = mod.request(
      url,
      {
        method: "POST",
        agent: false,
        lookup,
        signal: AbortSignal.timeout(timeoutMs),
        headers: { ...headers, "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) },
      },
      (res) => {
        res.resume(); // the receiver's answer body is not kept
        res.on("end", () => resolve({ status: res.statusCode ?? 0, ms: ms() }));
        res.on("error", (err) => resolve({ status: res.statusCode ?? 0, error: err.message, ms: ms() }));
      },
    );
    req.on("error", (err) => {
      const timedOut = (err as { name?: string }).name === "AbortError" || (err as { code?: string }).code === "ABORT_ERR";
      resolve({ error: timedOut ? `no answer within ${timeoutMs} ms` : err.message, ms: ms() });
    });
    req.end(body);
  });
}
