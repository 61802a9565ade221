/**
 * Coordinator scheduling benchmark (in process, no mesh). Three measurements:
 *  1. one placement decision over 1,000 nodes x 8 GPUs (resident models, mixed load);
 *     target p50/p99 <= 1 ms;
 *  2. draining a 10,000-job queue of 20 requirement classes through the pending index
 *     (next head + decision per job, no queue rescans);
 *  3. the Coordinator hot path submit -> dispatch -> complete over the embedded store
 *     (and, with --redis, over a real redis-server it starts) with an instant fake agent
 *     (jobs/s; the mesh adds its own cost on top).
 * Prints markdown table rows; the last line gives the machine's load, since shared
 * machines make latency numbers noisy.
 * Run: node --import tsx bench/scheduler.bench.ts [--decisions N] [--jobs N] [--redis]
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { systemClock } from "../core/clock.ts";
import { silentLogger } from "../core/logger.ts";
import type { DispatchTask, Dispatcher } from "../core/mesh-contract.ts";
import type { GpuInfo, NodeReport, ResidentModel } from "../core/telemetry.ts";
import { Coordinator } from "../coordinator/coordinator.ts";
import type { NodeView } from "../coordinator/node-view.ts";
import { PendingIndex } from "../coordinator/pending-index.ts";
import { schedule } from "../coordinator/scheduler.ts";
import { EmbeddedJobStore } from "../coordinator/stores/embedded-store.ts";
import { RedisJobStore } from "../coordinator/stores/redis-store.ts";
import type { JobStore } from "../coordinator/job-store.ts";
import { startRedis } from "../deploy/servers/infra.ts";

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const DECISIONS = arg("--decisions", 2000);
const E2E_JOBS = arg("--jobs", 5000);

// Deterministic pseudo-random numbers, so runs compare.
let seed = 42;
const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;

const MODELS = Array.from({ length: 10 }, (_, i) => `model-${i}`);
const VRAM: Record<string, number> = Object.fromEntries(MODELS.map((m, i) => [m, 4000 + i * 2000]));
const TYPES = ["image.generate", "video.generate", "audio.generate", "image.upscale"];

function makeNode(i: number): NodeView {
  const gpus: GpuInfo[] = [];
  const resident: ResidentModel[] = [];
  for (let g = 0; g < 8; g++) {
    let used = 0;
    for (let k = 0; k < 2; k++) {
      if (rnd() < 0.5) {
        const m = MODELS[Math.floor(rnd() * MODELS.length)]!;
        const v = VRAM[m]!;
        if (used + v > 24576) continue;
        used += v;
        resident.push({ model_id: m, gpu_index: g, vram_mb: v, in_use: rnd() < 0.3 ? 1 : 0, loaded_at: 0, last_used_at: 0, load_ms: 5000 });
      }
    }
    gpus.push({
      index: g,
      uuid: `GPU-${i}-${g}`,
      name: "Sim",
      memory_total_mb: 24576,
      memory_used_mb: used,
      utilization_pct: Math.floor(rnd() * 100),
      temperature_c: 50,
      simulated: true,
    });
  }
  const report: NodeReport = {
    node_id: `node-${String(i).padStart(4, "0")}`,
    hostname: `h${i}`,
    started_at: 0,
    draining: false,
    job_types: TYPES,
    models: Object.fromEntries(TYPES.map((t) => [t, MODELS])),
    model_vram: VRAM,
    gpus,
    resident,
    running_jobs: [],
    max_concurrent_jobs: 8,
    cpu_load: rnd() * 8,
    reported_at: 0,
  };
  return { report, draining: rnd() < 0.02, blocklisted: new Map(), running: Math.floor(rnd() * 9) };
}

function pct(times: number[]): { p50: number; p99: number; mean: number } {
  const s = [...times].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { p50: q(0.5), p99: q(0.99), mean: s.reduce((a, b) => a + b, 0) / s.length };
}
const us = (ms: number) => `${(ms * 1000).toFixed(0)} µs`;

// 1. single decisions over a big farm ---------------------------------------------------
const nodes = Array.from({ length: 1000 }, (_, i) => makeNode(i));
for (let i = 0; i < 1000; i++) schedule({ type: TYPES[i % 4]!, requirements: { model: MODELS[i % 10]!, vram_mb: VRAM[MODELS[i % 10]!]! } }, nodes); // warm-up
let verdicts: Record<string, number> = {};
function decisions(maxReasons: number | undefined): { p50: number; p99: number; mean: number } {
  const times: number[] = [];
  for (let i = 0; i < DECISIONS; i++) {
    const m = MODELS[Math.floor(rnd() * MODELS.length)]!;
    const t = performance.now();
    const d = schedule({ type: TYPES[i % 4]!, requirements: { model: m, vram_mb: VRAM[m]! } }, nodes, maxReasons === undefined ? {} : { maxReasons });
    times.push(performance.now() - t);
    verdicts[d.verdict] = (verdicts[d.verdict] ?? 0) + 1;
  }
  return pct(times);
}
// The coordinator's dispatch loop keeps 50 reasons per decision; why() asks for more.
const one = decisions(50);
const oneVerdicts = verdicts;
verdicts = {};
const full = decisions(undefined);

// 2. a 10,000-job queue drained through the pending index -------------------------------
const idx = new PendingIndex();
for (let i = 0; i < 10_000; i++) {
  const m = MODELS[i % 10]!;
  idx.add({ id: `j${i}`, type: TYPES[i % 2]!, priority: i % 3, created_at: i, requirements: { model: m, vram_mb: VRAM[m]! } });
}
const small = nodes.slice(0, 100).map((n) => ({ ...n, running: 0, draining: false, report: { ...n.report, max_concurrent_jobs: 1000 } }));
const qTimes: number[] = [];
const t2 = performance.now();
const skip = new Set<string>();
let placed = 0;
for (;;) {
  const t = performance.now();
  const next = idx.next(skip);
  if (!next) break;
  const d = schedule(next.job, small, { maxReasons: 50 });
  if (d.verdict === "placed") {
    idx.remove(next.job.id);
    const v = small.find((n) => n.report.node_id === d.node_id)!;
    v.running++;
    placed++;
  } else skip.add(next.key);
  qTimes.push(performance.now() - t);
}
const queueMs = performance.now() - t2;
const q = pct(qTimes);

// 3. Coordinator hot path ------------------------------------------------------------------
async function hotPath(store: JobStore): Promise<number> {
  let coord!: Coordinator;
  let done = 0;
  let resolveAll!: () => void;
  const allDone = new Promise<void>((r) => (resolveAll = r));
  const agent: Dispatcher = {
    async startTask(nodeId: string, task: DispatchTask) {
      setImmediate(() => {
        void coord.reportCompleted({ node_id: nodeId, job_id: task.job_id, token: task.token, result: { ok: true } }).then(() => {
          if (++done === E2E_JOBS) resolveAll();
        });
      });
    },
    async cancelTask() {},
  };
  coord = new Coordinator({
    store,
    clock: systemClock,
    config: { lease_ms: 30_000, max_attempts: 3, blocklist_threshold: 3, sweep_interval_ms: 1000 },
    dispatcher: agent,
    publish: () => {},
    logger: silentLogger,
  });
  await coord.start();
  for (let n = 0; n < 4; n++) {
    await coord.nodeHeartbeat({
      node_id: `agent-${n}`,
      hostname: "h",
      started_at: 0,
      draining: false,
      job_types: ["diag.echo"],
      models: {},
      model_vram: {},
      gpus: [],
      resident: [],
      running_jobs: [],
      max_concurrent_jobs: 64,
      cpu_load: 0,
      reported_at: 0,
      leases: [],
    });
  }
  const t = performance.now();
  const submits: Promise<unknown>[] = [];
  for (let i = 0; i < E2E_JOBS; i++) {
    submits.push(coord.submit({ type: "diag.echo", params: { i } }));
    if (submits.length >= 256) await Promise.all(submits.splice(0));
  }
  await Promise.all(submits);
  await allDone;
  const ms = performance.now() - t;
  await coord.stop();
  await store.close();
  return (E2E_JOBS / ms) * 1000;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nb-bench-coord-"));
const embeddedRate = await hotPath(await EmbeddedJobStore.open({ dir }));
fs.rmSync(dir, { recursive: true, force: true });
let redisRate: number | undefined;
if (process.argv.includes("--redis")) {
  const server = await startRedis();
  try {
    redisRate = await hotPath(new RedisJobStore({ url: server.url, prefix: "bench:" }));
  } finally {
    await server.stop();
  }
}

console.log(`| Benchmark | p50 | p99 | throughput | notes |`);
console.log(`|---|---|---|---|---|`);
console.log(
  `| scheduler decision, 1,000 nodes x 8 GPUs (50 reasons, as dispatched) | ${us(one.p50)} | ${us(one.p99)} | ${Math.round(1000 / one.mean)} decisions/s | ${DECISIONS} decisions; verdicts ${JSON.stringify(oneVerdicts)} |`,
);
console.log(
  `| scheduler decision, 1,000 nodes x 8 GPUs (all 1,000 reasons, as why) | ${us(full.p50)} | ${us(full.p99)} | ${Math.round(1000 / full.mean)} decisions/s | ${DECISIONS} decisions |`,
);
console.log(
  `| 10,000-job queue (20 classes) over 100 nodes | ${us(q.p50)} | ${us(q.p99)} | ${Math.round((qTimes.length / queueMs) * 1000)} decisions/s | ${placed} placed, ${qTimes.length} decisions, ${queueMs.toFixed(0)} ms total |`,
);
console.log(
  `| coordinator submit -> dispatch -> complete (embedded store, in-process agent) | - | - | ${Math.round(embeddedRate)} jobs/s | ${E2E_JOBS} jobs, 4 agents x 64 slots |`,
);
if (redisRate !== undefined)
  console.log(
    `| coordinator submit -> dispatch -> complete (Redis store, in-process agent) | - | - | ${Math.round(redisRate)} jobs/s | ${E2E_JOBS} jobs, local redis-server |`,
  );
console.log(`\n(${os.cpus().length} CPUs, load average ${os.loadavg()[0]!.toFixed(1)} at the end of the run, node ${process.version})`);
