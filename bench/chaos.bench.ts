/**
 * Chaos bench (issue 15 item 4), `npm run chaos` or `npm run bench -- chaos`: the scenario
 * of bench/chaos/scenario.ts at full size: 500 jobs of mixed length (diag.echo; diag.sleep
 * 0.2 / 1 / 3 s) over 3 agents while, in turn, an agent is killed 20 times (-9, restarted),
 * the active coordinator is killed 5 times (-9, restarted as a standby; two coordinators),
 * Redis is restarted (AOF on), NATS is restarted, an agent is paused 5 s. Loopback only.
 * Recovery time per fault: from the fault until a probe job submitted right after it
 * (priority 100, so it waits only for a free slot, at most one 3 s job) completes.
 * CHAOS_JOBS / CHAOS_AGENT_KILLS / CHAOS_COORDINATOR_KILLS shorten it.
 */
import os from "node:os";
import { runChaos, chaosTable } from "./chaos/scenario.ts";

const env = (k: string, d: number) => Number(process.env[k] ?? d);
// The 1-minute load average at the start and the end: recovery times on a shared machine depend on it.
const loadStart = os.loadavg()[0]!;
const f = await runChaos({
  jobs: env("CHAOS_JOBS", 500),
  agentKills: env("CHAOS_AGENT_KILLS", 20),
  coordinatorKills: env("CHAOS_COORDINATOR_KILLS", 5),
  redisRestarts: 1,
  natsRestarts: 1,
  agentPauses: 1,
  pauseMs: 5000,
  seed: env("CHAOS_SEED", 4),
  drainTimeoutMs: 180_000,
  log: (l) => process.stderr.write(`${l}\n`),
});
console.log(
  `Load average (1 min) ${loadStart.toFixed(1)} at the start, ${os.loadavg()[0]!.toFixed(1)} at the end, on ${os.cpus().length} cores; priority: ${process.env.CHAOS_PRIORITY ?? "normal"}.\n`,
);
console.log(chaosTable(f));
process.exit(0);
