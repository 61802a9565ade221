/**
 * Does pino (Fastify's own logger, behind core/logger.ts) cost anything against the farm's
 * former hand-written JSON-line logger (bench/logger-baseline/json-logger.ts)? Both write
 * the same fields ({level, t, ...bindings, ...fields, msg}) to stdout (warn and error to
 * stderr), synchronously. "json" runs load the baseline in place of core/logger.ts through
 * a resolve hook (bench/logger-baseline/register.mjs), in this process's children and in
 * every role process of the farm.
 *
 * 1. In-process: 200,000 info lines with 6 fields (the API's request line) to /dev/null,
 *    through a child logger, per implementation, alternated 3 times; CPU ns (user + system)
 *    per line, which a busy shared machine disturbs less than wall time.
 * 2. The throughput bench's case (distributed farm, 2 agents, diag.echo ?wait=true,
 *    autocannon at 64 connections, 8 s per run) with FARM_LOG_LEVEL=info, so the API writes
 *    one request line per request (and the roles their info lines) into the pipes a process
 *    manager would read; one farm per implementation, a warm-up then 3 runs each.
 *
 *   node --import tsx bench/logger.bench.ts [--skip-farm]
 */
import fs from "node:fs";
import { parseArgs } from "node:util";
import { startLocalFarm } from "../deploy/servers/farm-procs.ts";
import { cannon } from "./load.ts";

const BASELINE = new URL("./logger-baseline/register.mjs", import.meta.url).pathname;
const nodeArgs = (impl: "json" | "pino") => (impl === "json" ? ["--import", BASELINE] : []);

const { values } = parseArgs({ options: { "skip-farm": { type: "boolean", default: false } } });
const out: string[] = [];
const say = (s: string) => {
  out.push(s);
  console.error(s);
};

// --- 1: in-process cost per line, stdout sent to /dev/null -----------------------------------
{
  const child = await import("node:child_process");
  const script = `
    import { createLogger } from "./core/logger.ts";
    const log = createLogger("info", { node: "api-1", roles: "api" }).child({ role: "api" });
    const N = 200000;
    for (let i = 0; i < 20000; i++) log.info("request", { req_id: "3f2c9a", method: "POST", url: "/api/v1/jobs", status: 200, ms: 1.2, client: "127.0.0.1" });
    const c0 = process.cpuUsage();
    for (let i = 0; i < N; i++) log.info("request", { req_id: "3f2c9a", method: "POST", url: "/api/v1/jobs", status: 200, ms: 1.2, client: "127.0.0.1" });
    const c = process.cpuUsage(c0);
    process.stderr.write(String(((c.user + c.system) * 1000) / N));
  `;
  const rows: Record<string, number[]> = { json: [], pino: [] };
  for (let round = 0; round < 3; round++) {
    for (const impl of ["json", "pino"] as const) {
      const devnull = fs.openSync("/dev/null", "w");
      const r = child.spawnSync(process.execPath, [...nodeArgs(impl), "--import", "tsx", "--input-type=module", "-e", script], {
        stdio: ["ignore", devnull, "pipe"],
        cwd: new URL("..", import.meta.url).pathname,
      });
      fs.closeSync(devnull);
      const ns = Number(String(r.stderr).trim().split("\n").at(-1));
      if (!Number.isFinite(ns)) throw new Error(`${impl}: ${String(r.stderr)}`);
      rows[impl]!.push(ns);
    }
  }
  say("In-process, 200,000 request lines to /dev/null (CPU ns per line, 3 alternated runs):");
  say("");
  say("| logger | run 1 | run 2 | run 3 | median |");
  say("|---|---:|---:|---:|---:|");
  for (const [impl, xs] of Object.entries(rows))
    say(`| ${impl} | ${xs.map((x) => x.toFixed(0)).join(" | ")} | ${[...xs].sort((a, b) => a - b)[1]!.toFixed(0)} |`);
}

// --- 2: the throughput bench's case with request logging on ----------------------------------
if (!values["skip-farm"]) {
  const rows: { impl: string; run: number; rate: number; p50: number; p99: number }[] = [];
  for (const impl of ["json", "pino"] as const) {
    const farm = await startLocalFarm({
      agents: 2,
      env: {
        NB_ROLE_NODE_ARGS: nodeArgs(impl).join(" "),
        FARM_AGENT__PLUGINS: '["diag"]',
        FARM_AGENT__MAX_CONCURRENT_JOBS: "256",
        FARM_API__RATE_LIMITS__ENABLED: "false",
        FARM_LOG_LEVEL: "info",
      },
    });
    try {
      const port = Number(new URL(farm.url).port);
      const body = JSON.stringify({ type: "diag.echo", params: {} });
      const run = () =>
        cannon({ port, method: "POST", path: "/api/v1/jobs?wait=true", body, concurrency: 64, seconds: 8, ok: (t) => t.includes('"status":"completed"') });
      await cannon({ port, method: "POST", path: "/api/v1/jobs?wait=true", body, concurrency: 16, seconds: 8, ok: () => true });
      for (let i = 1; i <= 3; i++) {
        const r = await run();
        if (r.errors) throw new Error(`${impl}: ${r.errors} errors: ${r.firstError}`);
        rows.push({ impl, run: i, rate: r.rate, p50: r.p50, p99: r.p99 });
      }
      // Each writes its fields in its own order: proof of which logger the processes ran.
      const line = farm.api
        .output()
        .split("\n")
        .find((l) => l.startsWith("{") && l.includes('"msg":"request"'));
      if (!line) throw new Error(`${impl}: the API wrote no request lines`);
      if (!line.startsWith(impl === "json" ? '{"t":' : '{"level":')) throw new Error(`${impl}: the API ran the other logger: ${line}`);
    } finally {
      await farm.stop();
    }
  }
  const mean = (impl: string) => {
    const xs = rows.filter((r) => r.impl === impl).map((r) => r.rate);
    return xs.reduce((a, b) => a + b, 0) / xs.length;
  };
  say("");
  say("Throughput with FARM_LOG_LEVEL=info (one request line per request), distributed farm, 64 connections, 8 s per run:");
  say("");
  say("| logger | run | req/s | p50 ms | p99 ms |");
  say("|---|---:|---:|---:|---:|");
  for (const r of rows) say(`| ${r.impl} | ${r.run} | ${r.rate.toFixed(0)} | ${r.p50.toFixed(0)} | ${r.p99.toFixed(0)} |`);
  say("");
  say(`Mean req/s: json ${mean("json").toFixed(0)}, pino ${mean("pino").toFixed(0)} (${(((mean("pino") - mean("json")) / mean("json")) * 100).toFixed(1)} %).`);
}
console.log(out.join("\n"));
