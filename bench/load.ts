/**
 * HTTP load for the benches. Two generators:
 * - `load`: a small keep-alive client on node:http, closed or open loop, with exact
 *   per-request latencies (used for concurrency 1 and for open-loop overhead rows);
 * - `cannon`: autocannon (what Fastify's own benchmarks use), closed loop, for the
 *   saturation rows. The load generator shares this 2-core machine with the farm: node:http
 *   costs ~0.2-0.25 ms of CPU per request, autocannon ~0.07-0.09 ms, so with autocannon the
 *   numbers say more about the farm and less about the client. Every response is checked
 *   (status and body) by both.
 */
import http from "node:http";
import autocannon from "autocannon";

export interface LoadResult {
  concurrency: number;
  ok: number;
  errors: number;
  rate: number;
  p50: number;
  p90: number;
  p99: number;
  firstError?: string;
}

export const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;

/**
 * `concurrency` clients in a loop. Closed loop by default (each sends again as soon as it has
 * its answer: measures saturation). With `perClientRate`, each client sends at that rate
 * (open loop, as 100 browsers or scripts polling would): latency then shows the front door's
 * own overhead rather than queueing.
 */
export async function load(opts: {
  port: number;
  method: string;
  path: string;
  body?: string;
  concurrency: number;
  seconds: number;
  perClientRate?: number;
  ok: (status: number, text: string) => boolean;
}): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency + 8 });
  const send = () =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const headers: Record<string, string | number> = {};
      if (opts.body !== undefined) {
        headers["content-type"] = "application/json";
        headers["content-length"] = Buffer.byteLength(opts.body);
      }
      const req = http.request({ host: "127.0.0.1", port: opts.port, path: opts.path, method: opts.method, agent, headers }, (res) => {
        let text = "";
        res.on("data", (d: Buffer) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on("error", reject);
      req.end(opts.body);
    });
  const lat: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const deadline = Date.now() + opts.seconds * 1000;
  const start = performance.now();
  const gapMs = opts.perClientRate ? 1000 / opts.perClientRate : 0;
  await Promise.all(
    Array.from({ length: opts.concurrency }, async (_, i) => {
      // Spread the clients' phases so an open-loop load is not one burst per period.
      let next = performance.now() + (gapMs * i) / opts.concurrency;
      while (Date.now() < deadline) {
        if (gapMs > 0) {
          const wait = next - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          next += gapMs;
        }
        const t0 = performance.now();
        try {
          const r = await send();
          if (opts.ok(r.status, r.text)) lat.push(performance.now() - t0);
          else {
            errors++;
            firstError ??= `${r.status} ${r.text.slice(0, 200)}`;
          }
        } catch (err) {
          errors++;
          firstError ??= String(err);
        }
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  agent.destroy();
  lat.sort((a, b) => a - b);
  return {
    concurrency: opts.concurrency,
    ok: lat.length,
    errors,
    rate: lat.length / elapsed,
    p50: pct(lat, 50),
    p90: pct(lat, 90),
    p99: pct(lat, 99),
    firstError,
  };
}

export function loadTable(rows: (LoadResult & { label?: string })[]): string {
  return [
    "| case | concurrency | requests | errors | req/s | p50 ms | p90 ms | p99 ms |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
    ...rows.map(
      (r) =>
        `| ${r.label ?? ""} | ${r.concurrency} | ${r.ok} | ${r.errors} | ${r.rate.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p90.toFixed(2)} | ${r.p99.toFixed(2)} |`,
    ),
  ].join("\n");
}

/** Closed-loop saturation with autocannon: `concurrency` keep-alive connections, each sending again on its answer. Latencies are whole milliseconds. */
export async function cannon(opts: {
  port: number;
  method: "GET" | "POST";
  path: string;
  body?: string;
  bodies?: string[];
  concurrency: number;
  seconds: number;
  ok: (body: string) => boolean;
}): Promise<LoadResult> {
  let firstError: string | undefined;
  let next = 0;
  const r = await autocannon({
    // With `bodies`, each request takes the next body of the list (round robin over all connections).
    ...(opts.bodies
      ? { setupClient: (client: autocannon.Client) => client.on("response", () => client.setBody(opts.bodies![next++ % opts.bodies!.length]!)) }
      : {}),
    url: `http://127.0.0.1:${opts.port}${opts.path}`,
    method: opts.method,
    headers: opts.body !== undefined || opts.bodies ? { "content-type": "application/json" } : {},
    body: opts.bodies ? opts.bodies[0] : opts.body,
    connections: opts.concurrency,
    duration: opts.seconds,
    verifyBody: (raw) => {
      const b = raw === undefined ? "" : raw.toString();
      const good = opts.ok(b);
      if (!good) firstError ??= b.slice(0, 200);
      return good;
    },
  });
  const errors = r.non2xx + r.errors + r.timeouts + r.mismatches;
  if (errors > 0) firstError ??= JSON.stringify(r.statusCodeStats);
  const ok = r.requests.total - r.non2xx - r.mismatches;
  return { concurrency: opts.concurrency, ok, errors, rate: ok / r.duration, p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, firstError };
}
