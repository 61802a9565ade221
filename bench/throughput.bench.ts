/**
 * End-to-end throughput and latency of no-op diag jobs through the DISTRIBUTED farm:
 * nats-server, redis-server, s3rver, coordinator, API and 2 agents as separate
 * processes on this machine. Each request is `POST /api/v1/jobs?wait=true` with
 * diag.echo: HTTP submit -> coordinator (Redis) -> agent -> completed event -> HTTP answer.
 * Concurrency 1 uses the node:http client (exact latencies); higher concurrency uses
 * autocannon, the lighter client (see bench/load.ts), since the load generator shares the
 * 2 cores with the 6 farm processes. Every response is checked (200 and status completed).
 *
 *   node --import tsx bench/throughput.bench.ts [--seconds 8] [--concurrency 1,16,64,128]
 */
import { parseArgs } from "node:util";
import { startLocalFarm } from "../deploy/servers/farm-procs.ts";
import { cannon, load, loadTable } from "./load.ts";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "8" }, concurrency: { type: "string", default: "1,4,16,64,128" } } });
const seconds = Number(values.seconds);
const levels = values.concurrency!.split(",").map(Number);

const farm = await startLocalFarm({
  agents: 2,
  env: { FARM_AGENT__PLUGINS: '["diag"]', FARM_AGENT__MAX_CONCURRENT_JOBS: "256", FARM_API__RATE_LIMITS__ENABLED: "false", FARM_LOG_LEVEL: "error" },
});
try {
  const port = Number(new URL(farm.url).port);
  const body = JSON.stringify({ type: "diag.echo", params: {} });
  const run = (concurrency: number, s: number) =>
    concurrency === 1
      ? load({
          port,
          method: "POST",
          path: "/api/v1/jobs?wait=true",
          body,
          concurrency,
          seconds: s,
          ok: (st, t) => st === 200 && t.includes('"status":"completed"'),
        })
      : cannon({ port, method: "POST", path: "/api/v1/jobs?wait=true", body, concurrency, seconds: s, ok: (t) => t.includes('"status":"completed"') });
  // Warm-up, 10 s: connections, Lua scripts, and above all V8's optimizing compiler. The
  // processes are freshly started; at concurrency 1 every hop runs with batches of one, a
  // code path the c=16 warm-up alone does not make hot (measured: the c=1 p50 falls from
  // ~6-8 ms in the first seconds to ~3-4 ms once warm), and a farm serves warm.
  await load({ port, method: "POST", path: "/api/v1/jobs?wait=true", body, concurrency: 16, seconds: 5, ok: () => true });
  await run(1, 5);
  const rows = [];
  for (const c of levels) rows.push({ label: "diag.echo submit->completed", ...(await run(c, seconds)) });
  console.log(loadTable(rows));
} finally {
  await farm.stop();
}
