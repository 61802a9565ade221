/**
 * Dead-agent detection to job re-queued, on a distributed farm (separate processes, real
 * NATS/Redis/S3): an agent running a job is killed with SIGKILL; we measure from the kill
 * to the coordinator's "requeued" history entry, and to the job running on the survivor.
 * The coordinator tells a killed agent (its NATS connection is gone, per nats-server's
 * /connz) from a stalled one; the second table pauses the agent running a job with
 * SIGSTOP for 5 s and counts how often the job was re-queued anyway (target 0: a stalled
 * agent keeps its job, issue 17).
 *
 *   node --import tsx bench/failover.bench.ts [--rounds 5]
 */
import { parseArgs } from "node:util";
import { startLocalFarm } from "../deploy/servers/farm-procs.ts";

const { values } = parseArgs({ options: { rounds: { type: "string", default: "5" } } });
const rounds = Number(values.rounds);

const farm = await startLocalFarm({
  agents: 2,
  startTimeoutMs: 120_000,
  env: { FARM_AGENT__PLUGINS: '["diag"]', FARM_API__RATE_LIMITS__ENABLED: "false", FARM_LOG_LEVEL: "error", FARM_COORDINATOR__MAX_ATTEMPTS: "10" },
});
const j = async (method: string, path: string, body?: unknown) => {
  const r = await fetch(farm.url + path, {
    method,
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  return (await r.json()) as Record<string, unknown>;
};
const rows: string[] = [];
try {
  for (let round = 1; round <= rounds; round++) {
    const { job_id } = (await j("POST", "/api/v1/jobs", { type: "diag.sleep", params: { seconds: 600, steps: 600 } })) as { job_id: string };
    let job: Record<string, unknown>;
    do {
      job = await j("GET", `/api/v1/jobs/${job_id}`);
    } while (job.status !== "running");
    const victim = farm.agents.find((a) => a.name === job.node_id)!;
    const killedAt = Date.now();
    await victim.kill9();
    let runningElsewhereAt = 0;
    for (;;) {
      job = await j("GET", `/api/v1/jobs/${job_id}`);
      if (job.status === "running" && job.node_id !== victim.name) {
        runningElsewhereAt = Date.now();
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const why = await j("GET", `/api/v1/jobs/${job_id}/why`);
    const requeued = (why.history as { at: number; event: string }[]).filter((h) => h.event === "requeued").at(-1);
    rows.push(`| ${round} | ${((requeued!.at - killedAt) / 1000).toFixed(2)} | ${((runningElsewhereAt - killedAt) / 1000).toFixed(2)} |`);
    await j("POST", `/api/v1/jobs/${job_id}/cancel`);
    const idx = farm.agents.indexOf(victim);
    farm.agents[idx] = farm.startRole(victim.name, "agent");
    await farm.waitForAgents(2, 120_000);
    await new Promise((r) => setTimeout(r, 1000));
  }
  console.log(["| round | kill -> re-queued (s) | kill -> running on survivor (s) |", "|---:|---:|---:|", ...rows].join("\n"));
  const stalls: string[] = [];
  for (let round = 1; round <= 3; round++) {
    const { job_id } = (await j("POST", "/api/v1/jobs", { type: "diag.sleep", params: { seconds: 8, steps: 8 } })) as { job_id: string };
    let job: Record<string, unknown>;
    do {
      job = await j("GET", `/api/v1/jobs/${job_id}`);
    } while (job.status !== "running");
    const victim = farm.agents.find((a) => a.name === job.node_id)!;
    victim.child.kill("SIGSTOP");
    await new Promise((r) => setTimeout(r, 5000));
    victim.child.kill("SIGCONT");
    do {
      job = await j("GET", `/api/v1/jobs/${job_id}`);
      await new Promise((r) => setTimeout(r, 100));
    } while (job.status === "running" || job.status === "pending");
    const why = await j("GET", `/api/v1/jobs/${job_id}/why`);
    const requeues = (why.history as { event: string; reason?: string }[]).filter((h) => h.event === "requeued");
    stalls.push(
      `| ${round} | 5 | ${job.status} | ${job.node_id === victim.name ? "yes" : "no"} | ${requeues.length}${requeues.length ? ` (${requeues.map((h) => h.reason).join("; ")})` : ""} |`,
    );
  }
  console.log(["", "| stall round | SIGSTOP (s) | job | finished on the paused agent | re-queued |", "|---:|---:|---|---|---:|", ...stalls].join("\n"));
} finally {
  await farm.stop();
}
