/**
 * Chaos bench (issue 15 item 4), `npm run chaos` or `npm run bench -- chaos`: the scenario
 * of bench/chaos/scenario.ts at full size: 500 jobs of mixed length (diag.echo; diag.sleep
 * 0.2 / 1 / 3 s) over 3 agents while, in turn, an agent is killed 20 times (-9, restarted),
 * the active coordinator is killed 5 times (-9, restarted as a standby; two coordinators),
 * Redis is restarted (AOF on), NATS is restarted, an agent is paused 5 s. Loopback only.
 * Recovery time per fault: from the fault until a probe job submitted right after it
 * (priority 100, so it waits only for a free slot, at most one 3 s job) completes.
 * CHAOS_JOBS / CHAOS_AGENT_KILLS / CHAOS_COORDINATOR_KILLS / CHAOS_REDIS_RESTARTS /
 * CHAOS_NATS_RESTARTS / CHAOS_PAUSES / CHAOS_PAUSE_MS / CHAOS_SEED shorten or reshape it
 * (scratch runs); CHAOS_LOG_DIR keeps every role's output, killed processes included.
 * After the tables, each agent kill step by step from the jobs' histories (kill -> its jobs
 * re-queued -> dispatched again -> done; the probe accepted -> dispatched -> done), with
 * "recovery" as the issue means it for this fault: the farm serves (the probe completed)
 * and the dead agent's jobs run elsewhere (bench/chaos/kill-trace.ts); the histories of a
 * kill over 5 s, and of every paused job dispatched again, go to stderr.
 */
import os from "node:os";
import { runChaos, chaosTable } from "./chaos/scenario.ts";
import { killTraceTable } from "./chaos/kill-trace.ts";

const env = (k: string, d: number) => Number(process.env[k] ?? d);
// The 1-minute load average at the start and the end: recovery times on a shared machine depend on it.
const loadStart = os.loadavg()[0]!;
const f = await runChaos({
  jobs: env("CHAOS_JOBS", 500),
  agentKills: env("CHAOS_AGENT_KILLS", 20),
  coordinatorKills: env("CHAOS_COORDINATOR_KILLS", 5),
  redisRestarts: env("CHAOS_REDIS_RESTARTS", 1),
  natsRestarts: env("CHAOS_NATS_RESTARTS", 1),
  agentPauses: env("CHAOS_PAUSES", 1),
  pauseMs: env("CHAOS_PAUSE_MS", 5000),
  seed: env("CHAOS_SEED", 4),
  drainTimeoutMs: 180_000,
  log: (l) => process.stderr.write(`${l}\n`),
});
console.log(
  `Load average (1 min) ${loadStart.toFixed(1)} at the start, ${os.loadavg()[0]!.toFixed(1)} at the end, on ${os.cpus().length} cores; priority: ${process.env.CHAOS_PRIORITY ?? "normal"}.\n`,
);
console.log(chaosTable(f));
if (f.kills.length > 0) console.log(`\nAgent kills, step by step (times from the kill, from the jobs' histories):\n\n${killTraceTable(f.kills)}`);
f.kills.forEach((k, i) => {
  if ((k.recoveryMs ?? Infinity) > 5000) for (const d of k.detail) process.stderr.write(`kill ${i + 1}: ${d}\n`);
});
for (const [why, n] of Object.entries(f.requeueReasons)) process.stderr.write(`re-queued ${n}x: ${why}\n`);
for (const d of f.pausedReRunDetail) process.stderr.write(`paused job dispatched again: ${d}\n`);
process.exit(0);
