/**
 * Does /metrics slow the farm? The throughput bench's workload (no-op diag.echo jobs,
 * `POST /api/v1/jobs?wait=true`, through the DISTRIBUTED farm: nats-server, redis-server,
 * s3rver, coordinator, API and 2 agents as separate processes) on two farms that differ
 * only in `metrics.enabled`: on, with /metrics scraped every second (15x Prometheus's
 * default interval, so any cost shows), and off (no hooks, no middleware, no store
 * listener). Both farms are started (one after the other) and then measured in alternating
 * short rounds, on/off, off/on, ..., so that each "on" round has an "off" round right beside
 * it in time, first and second in turn: on this shared 2-core machine the load of other work drifts by several times
 * within minutes, and only adjacent pairs compare like with like. Reported: every round,
 * and the median of the per-pair ratios (on / off), for throughput and for CPU time per job:
 * the CPU the farm's processes (API, coordinator, agents, redis-server, nats-server; read
 * from /proc) spent per completed job, which other work on the machine disturbs far less
 * than throughput. The scrapes' own CPU is included in "on".
 * Also reported: how long one scrape takes and how big it is after the run.
 *
 *   node --import tsx bench/metrics.bench.ts [--seconds 5] [--concurrency 64] [--pairs 8]
 */
import fs from "node:fs";
import { parseArgs } from "node:util";
import { startLocalFarm, type LocalFarm } from "../deploy/servers/farm-procs.ts";
import { cannon, load, loadTable, pct, type LoadResult } from "./load.ts";
import { setTimeout as sleep } from "node:timers/promises";

const { values } = parseArgs({
  options: { seconds: { type: "string", default: "5" }, concurrency: { type: "string", default: "64" }, pairs: { type: "string", default: "8" } },
});
const pairs = Number(values.pairs);
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const body = JSON.stringify({ type: "diag.echo", params: {} });

async function startFarm(metrics: boolean): Promise<LocalFarm> {
  const farm = await startLocalFarm({
    agents: 2,
    env: {
      FARM_AGENT__PLUGINS: '["diag"]',
      FARM_AGENT__MAX_CONCURRENT_JOBS: "256",
      FARM_API__RATE_LIMITS__ENABLED: "false",
      FARM_LOG_LEVEL: "error",
      FARM_METRICS__ENABLED: String(metrics),
    },
    startTimeoutMs: 300_000,
  });
  const port = Number(new URL(farm.url).port);
  // Warm-up as in throughput.bench.ts (V8 optimisation, connections, Lua scripts).
  await load({ port, method: "POST", path: "/api/v1/jobs?wait=true", body, concurrency: 16, seconds: 5, ok: () => true });
  return farm;
}

/** CPU time (ms) the farm's processes have used so far (utime + stime from /proc, 100 ticks/s). */
function farmCpuMs(farm: LocalFarm): number {
  const pids = [farm.api.child.pid, farm.coordinator.child.pid, ...farm.agents.map((a) => a.child.pid), farm.redis.pid, farm.nats.pid];
  let ticks = 0;
  for (const pid of pids) {
    if (!pid) continue;
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    ticks += Number(f[11]) + Number(f[12]); // fields 14 and 15 of proc(5), counted after the command name
  }
  return ticks * 10;
}

/** One measured round; with `scrape`, GET /metrics once a second meanwhile (latencies kept). */
async function round(farm: LocalFarm, scrape: boolean, scrapeMs: number[], sizes: number[]): Promise<LoadResult> {
  const port = Number(new URL(farm.url).port);
  const run = { stop: false };
  const scraper = (async () => {
    if (!scrape) return;
    while (!run.stop) {
      const t = performance.now();
      const r = await fetch(`${farm.url}/metrics`);
      const text = await r.text();
      if (r.status !== 200) throw new Error(`/metrics answered ${r.status}`);
      scrapeMs.push(performance.now() - t);
      sizes.push(text.length);
      await sleep(1000);
    }
  })();
  const cpu0 = farmCpuMs(farm);
  const res = await cannon({ port, method: "POST", path: "/api/v1/jobs?wait=true", body, concurrency, seconds, ok: (t) => t.includes('"status":"completed"') });
  const cpuMs = farmCpuMs(farm) - cpu0;
  run.stop = true;
  await scraper;
  cpuPerJob.push({ metrics: scrape, ms: cpuMs / Math.max(1, res.ok) });
  return res;
}

const rows: (LoadResult & { label: string })[] = [];
const cpuPerJob: { metrics: boolean; ms: number }[] = [];
const scrapeMs: number[] = [];
const sizes: number[] = [];
const on = await startFarm(true);
const off = await startFarm(false);
const ratios: number[] = [];
try {
  for (let i = 0; i < pairs; i++) {
    // Order alternates (on-off, off-on, ...): whichever runs second in a pair would otherwise
    // always get the machine's drift (measured here: up to 3x within a minute) in its favour.
    let a: LoadResult;
    let b: LoadResult;
    if (i % 2 === 0) {
      a = await round(on, true, scrapeMs, sizes);
      b = await round(off, false, scrapeMs, sizes);
    } else {
      b = await round(off, false, scrapeMs, sizes);
      a = await round(on, true, scrapeMs, sizes);
    }
    rows.push({ label: `metrics on, scraped every 1 s (pair ${i + 1})`, ...a }, { label: `metrics off (pair ${i + 1})`, ...b });
    ratios.push(a.rate / b.rate);
  }
} finally {
  await Promise.all([on.stop(), off.stop()]);
}
const rate = (label: string) => {
  const r = rows.filter((x) => x.label.startsWith(label));
  return r.reduce((s, x) => s + x.rate, 0) / r.length;
};
const p50 = (label: string) => {
  const r = rows.filter((x) => x.label.startsWith(label));
  return r.reduce((s, x) => s + x.p50, 0) / r.length;
};
console.log(loadTable(rows));
console.log();
const d = (rate("metrics on") / rate("metrics off") - 1) * 100;
console.log(
  `Mean throughput: metrics on ${rate("metrics on").toFixed(0)} jobs/s, off ${rate("metrics off").toFixed(0)} jobs/s (${d >= 0 ? "+" : ""}${d.toFixed(1)} %); mean p50 ${p50("metrics on").toFixed(2)} ms vs ${p50("metrics off").toFixed(2)} ms.`,
);
const cpuOn = cpuPerJob.filter((c) => c.metrics).map((c) => c.ms);
const cpuOff = cpuPerJob.filter((c) => !c.metrics).map((c) => c.ms);
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const cpuRatios = cpuOn.map((x, i) => x / cpuOff[i]!);
console.log(
  `Farm CPU per job (all farm processes): on ${cpuOn.map((x) => x.toFixed(2)).join(", ")} ms; off ${cpuOff.map((x) => x.toFixed(2)).join(", ")} ms; per-pair ratio median ${median(cpuRatios).toFixed(3)} (${((median(cpuRatios) - 1) * 100).toFixed(1)} %).`,
);
const med = [...ratios].sort((x, y) => x - y)[Math.floor(ratios.length / 2)]!;
console.log(
  `Per-pair throughput ratio on/off: ${ratios.map((r) => r.toFixed(2)).join(", ")}; median ${med.toFixed(3)} (${((med - 1) * 100).toFixed(1)} %). Load average at the end: ${(
    await import("node:os")
  )
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")}.`,
);
const sorted = [...scrapeMs].sort((a, b) => a - b);
console.log(
  `Scrapes during the runs: ${sorted.length}, p50 ${pct(sorted, 50).toFixed(1)} ms, max ${(sorted[sorted.length - 1] ?? NaN).toFixed(1)} ms, ${Math.round((sizes[sizes.length - 1] ?? 0) / 1024)} KiB of text (API + coordinator over the mesh, under full load).`,
);
