/**
 * End-to-end throughput and latency of no-op diag jobs through the DISTRIBUTED farm:
 * nats-server, redis-server, s3rver, coordinator, API and 2 agents as separate
 * processes on this machine. Each request is `POST /api/v1/jobs?wait=true` with
 * diag.echo: HTTP submit -> coordinator -> agent -> completed event -> HTTP answer.
 *
 *   node --import tsx bench/throughput.bench.ts [--seconds 10] [--concurrency 1,8,64,128]
 */
import http from "node:http";
import { parseArgs } from "node:util";
import { startLocalFarm } from "../deploy/servers/farm-procs.ts";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "8" }, concurrency: { type: "string", default: "1,16,64,128" } } });
const seconds = Number(values.seconds);
const levels = values.concurrency!.split(",").map(Number);

const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });

function post(port: number, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: "/api/v1/jobs?wait=true", method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (res) => {
      let text = "";
      res.on("data", (d: Buffer) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;

async function run(port: number, concurrency: number, durationS: number) {
  const lat: number[] = [];
  let errors = 0;
  const deadline = Date.now() + durationS * 1000;
  const start = performance.now();
  const body = JSON.stringify({ type: "diag.echo", params: {} });
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (Date.now() < deadline) {
      const t0 = performance.now();
      const r = await post(port, body);
      const dt = performance.now() - t0;
      if (r.status === 200 && r.text.includes('"completed"')) lat.push(dt);
      else errors++;
    }
  }));
  const elapsed = (performance.now() - start) / 1000;
  lat.sort((a, b) => a - b);
  return { concurrency, jobs: lat.length, errors, rate: lat.length / elapsed, p50: pct(lat, 50), p90: pct(lat, 90), p99: pct(lat, 99) };
}

const farm = await startLocalFarm({
  agents: 2,
  env: {
    FARM_AGENT__PLUGINS: '["diag"]',
    FARM_AGENT__MAX_CONCURRENT_JOBS: "256",
    FARM_API__RATE_LIMITS__ENABLED: "false",
    FARM_LOG_LEVEL: "error",
  },
});
try {
  const port = Number(new URL(farm.url).port);
  await run(port, 16, 2); // warm-up: JIT, connections, scripts loaded in Redis
  const rows = [];
  for (const c of levels) rows.push(await run(port, c, seconds));
  const lines = [
    "| concurrency | jobs | errors | jobs/s | p50 ms | p90 ms | p99 ms |",
    "|---:|---:|---:|---:|---:|---:|---:|",
    ...rows.map((r) => `| ${r.concurrency} | ${r.jobs} | ${r.errors} | ${r.rate.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p90.toFixed(2)} | ${r.p99.toFixed(2)} |`),
  ];
  console.log(lines.join("\n"));
} finally {
  await farm.stop();
  agent.destroy();
}
