/**
 * Sends seeded hostile requests at a running API and sorts every answer:
 *   clean 4xx  the spec's envelope {error: true, code, message, details, timestamp} with a
 *              catalog code whose status is the HTTP status;
 *   unclean    a 4xx without that envelope;
 *   5xx        any server error. Counted apart, not as faults: 503 CAPABILITY_UNAVAILABLE
 *              (the answer for a job type no loaded plugin offers) and 504 TIMEOUT in the
 *              envelope (a synchronous route's wait ran out behind the fuzz jobs; the job
 *              keeps running and its id is in the answer);
 *   no answer  a reset or no answer within the timeout;
 *   leaks      a body showing a file from outside the data folders or a stack trace;
 * and counts connections to the loopback canary (URL inputs must be refused before connecting).
 */
import http from "node:http";
import net from "node:net";
import { mulberry32 } from "../../scripts/audio-eval/rng.ts";
import { ERROR_CATALOG } from "../../core/errors.ts";
import { makeRequest, operationsOf, type FuzzContext, type FuzzRequest } from "./requests.ts";
import { pick } from "./schema-sample.ts";

export interface FuzzFigures {
  seed: number;
  tried: number;
  ok2xx: number;
  clean4xx: number;
  unclean4xx: number;
  /** 4xx envelopes whose details name no field (404 for unknown routes and ids mostly). */
  fieldless4xx: number;
  capability503: number;
  /** 504 TIMEOUT from a synchronous route (character register) whose helper job waited behind the fuzz jobs; the job keeps running. */
  syncTimeout504: number;
  server5xx: number;
  noAnswer: number;
  leaks: number;
  canaryConnections: number;
  crashed: boolean;
  seconds: number;
  byKind: Record<string, { tried: number; clean4xx: number; ok2xx: number; bad: number }>;
  /** How the jobs accepted during the run stand at its end (status -> count), and the failed ones' error codes. */
  /** failedExample: one error message per failed-by-code entry, to find the gap it shows. */
  jobs: { byStatus: Record<string, number>; failedByCode: Record<string, number>; failedExample?: Record<string, string> };
  /** Up to 10 requests of each fault that got a 5xx, an unclean answer, no answer or leaked. */
  failures: { fault: string; kind: string; op: string; method: string; path: string; status: number; body: string; requestBody?: string }[];
}

export interface FuzzTarget {
  baseUrl: string;
  /** The OpenAPI document (app.swagger() or GET /docs/json). */
  openapi: unknown;
  /** False once the farm process has died. */
  alive: () => boolean;
}

export interface FuzzOptions {
  seed: number;
  requests: number;
  concurrency?: number;
  /** Stop early (with the figures so far) after this long. */
  maxSeconds?: number;
  perRequestTimeoutMs?: number;
  context: Omit<FuzzContext, "canaryPort">;
  canaryPort: number;
}

/** A loopback listener that counts connections: anything reaching it is an SSRF. */
export async function startCanary(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let n = 0;
  const server = net.createServer((s) => {
    n++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  return { port, connections: () => n, close: () => new Promise((r) => server.close(() => r())) };
}

type Answer = { status: number; body: string } | { error: string };

/**
 * One request. A keep-alive socket the server closed between two requests fails the next
 * one with a reset before the server saw it (Node's documented race, `reusedSocket`): that
 * request is sent once more on a new connection, so "no answer" means the server's fault.
 */
async function send(agent: http.Agent, base: URL, req: FuzzRequest, timeoutMs: number): Promise<Answer> {
  const first = await sendOnce(agent, base, req, timeoutMs);
  if (!("reused" in first)) {
    // A server that answers (413) before reading a big body and closes: Node's client fails
    // the write (EPIPE) and drops the answer. Read it off a raw socket instead.
    if ("error" in first && /EPIPE|ECONNRESET/.test(first.error) && req.body) return rawExchange(base, req, timeoutMs);
    return first;
  }
  const again = await sendOnce(false, base, req, timeoutMs);
  if ("reused" in again) return { error: "connection reset" };
  // The same early answer can meet the resend: read it off a raw socket as above.
  if ("error" in again && /EPIPE|ECONNRESET/.test(again.error) && req.body) return rawExchange(base, req, timeoutMs);
  return again;
}

function rawExchange(base: URL, req: FuzzRequest, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve) => {
    const s = net.connect(Number(base.port), base.hostname);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => s.destroy(), timeoutMs);
    s.on("data", (d: Buffer) => chunks.push(d));
    s.on("error", () => {
      /* the write side may fail; what was read still counts */
    });
    s.on("close", () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString("utf8");
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      resolve(m ? { status: Number(m[1]), body: text.slice(text.indexOf("\r\n\r\n") + 4) } : { error: "closed without an answer" });
    });
    const head = Object.entries({ ...req.headers, host: base.host, "content-length": String(req.body?.length ?? 0), connection: "close" })
      .map(([k, v]) => `${k}: ${v}`)
      .join("\r\n");
    s.write(`${req.method} ${req.path} HTTP/1.1\r\n${head}\r\n\r\n`);
    if (req.body) s.end(req.body);
    else s.end();
  });
}

function sendOnce(agent: http.Agent | false, base: URL, req: FuzzRequest, timeoutMs: number): Promise<Answer | { reused: true }> {
  return new Promise((resolve) => {
    let r: http.ClientRequest;
    try {
      r = http.request({
        agent,
        host: base.hostname,
        port: base.port,
        method: req.method,
        path: req.path,
        headers: { ...req.headers, ...(req.body ? { "content-length": String(req.body.length) } : {}) },
      });
    } catch (err) {
      // Node refuses to send this path or header (unescaped characters): nothing reached the server.
      return resolve({ error: `unsendable: ${(err as Error).message}` });
    }
    const timer = setTimeout(() => {
      r.destroy(new Error(`no answer in ${timeoutMs} ms`));
    }, timeoutMs);
    r.on("response", (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (d: Buffer) => {
        if (size < 64_000) chunks.push(d);
        size += d.length;
      });
      res.on("end", () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") });
      });
      res.on("error", (e) => {
        clearTimeout(timer);
        resolve({ error: e.message });
      });
    });
    r.on("error", (e) => {
      clearTimeout(timer);
      const code = (e as NodeJS.ErrnoException).code;
      if (r.reusedSocket && (code === "ECONNRESET" || code === "EPIPE")) resolve({ reused: true });
      else resolve({ error: e.message });
    });
    r.end(req.body);
  });
}

function isEnvelope(status: number, text: string): { ok: boolean; code?: string; field?: unknown } {
  let b: Record<string, unknown>;
  try {
    b = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { ok: false };
  }
  if (!b || b.error !== true || typeof b.code !== "string" || typeof b.message !== "string" || typeof b.timestamp !== "string") return { ok: false };
  if (!b.details || typeof b.details !== "object") return { ok: false, code: b.code };
  const entry = (ERROR_CATALOG as Record<string, { status: number }>)[b.code];
  return { ok: !!entry && entry.status === status, code: b.code, field: (b.details as Record<string, unknown>).field };
}

// File contents from outside the data folders (passwd, an environment), or a stack trace.
const LEAK = /root:x?:0:0:|\n\s+at .+\.(ts|js):\d+|PRIVATE KEY|\bPATH=\/|\bHOME=\//;

export async function runFuzz(target: FuzzTarget, opts: FuzzOptions): Promise<FuzzFigures> {
  const rng = mulberry32(opts.seed);
  const ctx: FuzzContext = { ...opts.context, canaryPort: opts.canaryPort };
  const ops = operationsOf(target.openapi as Parameters<typeof operationsOf>[0]).filter((o) => !o.path.startsWith("/docs"));
  const base = new URL(target.baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency ?? 8 });
  const f: FuzzFigures = {
    seed: opts.seed,
    tried: 0,
    ok2xx: 0,
    clean4xx: 0,
    unclean4xx: 0,
    fieldless4xx: 0,
    capability503: 0,
    syncTimeout504: 0,
    server5xx: 0,
    noAnswer: 0,
    leaks: 0,
    canaryConnections: 0,
    crashed: false,
    seconds: 0,
    byKind: {},
    failures: [],
    jobs: { byStatus: {}, failedByCode: {} },
  };
  const t0 = Date.now();
  const deadline = t0 + (opts.maxSeconds ?? 600) * 1000;
  // Requests are generated up front from one PRNG, so the set does not depend on timing.
  const reqs: FuzzRequest[] = Array.from({ length: opts.requests }, () => makeRequest(pick(rng, ops), rng, ctx));
  let next = 0;
  const shown: Record<string, number> = {};
  const fail = (req: FuzzRequest, status: number, body: string, what: string) => {
    // At most 10 examples of each fault, so one frequent fault does not hide the others.
    shown[what] = (shown[what] ?? 0) + 1;
    if (shown[what]! <= 10)
      f.failures.push({
        fault: what,
        kind: req.kind,
        op: req.op,
        method: req.method,
        path: req.path.slice(0, 300),
        status,
        body: body.slice(0, 400),
        requestBody: req.body?.toString("utf8").slice(0, 300),
      });
  };
  const worker = async () => {
    while (next < reqs.length && Date.now() < deadline && target.alive()) {
      const req = reqs[next++]!;
      const k = (f.byKind[req.kind] ??= { tried: 0, clean4xx: 0, ok2xx: 0, bad: 0 });
      const res = await send(agent, base, req, opts.perRequestTimeoutMs ?? 30_000);
      if ("error" in res && res.error.startsWith("unsendable")) continue;
      f.tried++;
      k.tried++;
      if ("error" in res) {
        f.noAnswer++;
        k.bad++;
        fail(req, 0, res.error, "no answer");
        continue;
      }
      if (LEAK.test(res.body)) {
        f.leaks++;
        k.bad++;
        fail(req, res.status, res.body, "leak");
      }
      if (res.status < 400) {
        f.ok2xx++;
        k.ok2xx++;
        continue;
      }
      // A HEAD answer has no body by definition: its status is all there is to judge.
      let env =
        req.method === "HEAD" ? { ok: res.status < 500, code: undefined as string | undefined, field: "" as unknown } : isEnvelope(res.status, res.body);
      if (req.method === "HEAD" && res.status >= 500) {
        // Which 5xx it was is in the body a GET of the same path carries.
        const get = await send(agent, base, { ...req, method: "GET", body: undefined, headers: {} }, opts.perRequestTimeoutMs ?? 30_000);
        if ("status" in get && get.status === res.status) env = isEnvelope(get.status, get.body);
      }
      if (res.status < 500) {
        if (env.ok) {
          f.clean4xx++;
          k.clean4xx++;
          if (env.field === undefined) f.fieldless4xx++;
        } else {
          f.unclean4xx++;
          k.bad++;
          fail(req, res.status, res.body, "unclean 4xx");
        }
      } else if (res.status === 503 && env.ok && env.code === "CAPABILITY_UNAVAILABLE") {
        f.capability503++;
      } else if (res.status === 504 && env.ok && env.code === "TIMEOUT") {
        f.syncTimeout504++;
      } else {
        f.server5xx++;
        k.bad++;
        fail(req, res.status, res.body, "5xx");
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, worker));
  agent.destroy();
  f.seconds = (Date.now() - t0) / 1000;
  f.crashed = !target.alive();
  if (!f.crashed) f.jobs = await jobOutcomes(target.baseUrl);
  return f;
}

/**
 * Accepted jobs run after their 202: a job that fails on an input the API let through is a
 * validation gap even though no request saw a 5xx. Tallied from GET /api/v1/jobs/list.
 */
async function jobOutcomes(baseUrl: string): Promise<FuzzFigures["jobs"]> {
  const out: FuzzFigures["jobs"] = { byStatus: {}, failedByCode: {}, failedExample: {} };
  const get = async (q: string) =>
    (await (await fetch(`${baseUrl}/api/v1/jobs/list?${q}`)).json()) as {
      jobs: { error_code?: string | null; error?: string | null; type?: string }[];
      total: number;
    };
  for (const status of ["pending", "running", "completed", "failed", "cancelled"]) {
    out.byStatus[status] = (await get(`status=${status}&limit=1`)).total;
  }
  for (let offset = 0; offset < Math.min(out.byStatus.failed ?? 0, 5000); offset += 1000) {
    for (const j of (await get(`status=failed&limit=1000&offset=${offset}`)).jobs) {
      const code = `${j.type}: ${j.error_code ?? "no code"}`;
      out.failedByCode[code] = (out.failedByCode[code] ?? 0) + 1;
      out.failedExample![code] ??= (j.error ?? "").slice(0, 200);
    }
  }
  return out;
}

/** Markdown table of the figures (for BENCHMARKS.md and test logs). */
export function figuresTable(f: FuzzFigures): string {
  const lines = [
    `Seed ${f.seed}: ${f.tried} requests in ${f.seconds.toFixed(1)} s (${(f.tried / Math.max(f.seconds, 0.001)).toFixed(0)}/s).`,
    "",
    "| tried | 2xx | clean 4xx (envelope) | of which no field named | unclean 4xx | 5xx (target 0) | 503 capability | 504 sync wait | no answer | leaks | canary connections | crashed (target no) |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
    `| ${f.tried} | ${f.ok2xx} | ${f.clean4xx} | ${f.fieldless4xx} | ${f.unclean4xx} | ${f.server5xx} | ${f.capability503} | ${f.syncTimeout504} | ${f.noAnswer} | ${f.leaks} | ${f.canaryConnections} | ${f.crashed ? "yes" : "no"} |`,
    "",
    `Accepted jobs at the end of the run: ${Object.entries(f.jobs.byStatus)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}; failed by code: ${
      Object.entries(f.jobs.failedByCode)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ") || "none"
    }.`,
    ...Object.entries(f.jobs.failedExample ?? {}).map(([k, v]) => `- ${k}, e.g.: ${v.replace(/\n/g, " ")}`),
    "",
    "| kind | tried | 2xx | clean 4xx | faults |",
    "|---|---|---|---|---|",
    ...Object.entries(f.byKind)
      .sort()
      .map(([k, v]) => `| ${k} | ${v.tried} | ${v.ok2xx} | ${v.clean4xx} | ${v.bad} |`),
  ];
  return lines.join("\n");
}
