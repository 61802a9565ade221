/**
 * The shared setup of the liveness e2e tests (liveness, mesh-silence): a distributed farm of
 * real processes (nats-server with its monitoring endpoint, redis-server, s3rver, each role
 * its own process) with two agents serving the diag plugin, and the ways those tests read a
 * job's history and the coordinator's notice of a silent node.
 */
import assert from "node:assert/strict";
import { startLocalFarm, type LocalFarm } from "../../deploy/servers/farm-procs.ts";
import { http } from "./http.ts";

/** Two diag agents (4 slots each), fast sweeps, no rate limits; `env` adds or overrides settings. */
export function startLivenessFarm(env: Record<string, string> = {}): Promise<LocalFarm> {
  return startLocalFarm({
    agents: 2,
    startTimeoutMs: 120_000,
    env: {
      FARM_AGENT__PLUGINS: '["diag"]',
      FARM_AGENT__MAX_CONCURRENT_JOBS: "4",
      FARM_COORDINATOR__SWEEP_INTERVAL_MS: "250",
      FARM_API__RATE_LIMITS__ENABLED: "false",
      ...env,
    },
  });
}

export async function submitJob(farm: LocalFarm, type: string, params: Record<string, unknown>): Promise<string> {
  const r = await http(farm.url, "POST", "/api/v1/jobs", { type, params });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  return String(r.body.job_id);
}

export type HistoryEntry = { event: string; node_id?: string; reason?: string };
export const jobHistory = async (farm: LocalFarm, id: string) => (await http(farm.url, "GET", `/api/v1/jobs/${id}/why`)).body.history as HistoryEntry[];
/** One line per history, for assertion messages: `dispatched@agent-1, requeued@agent-1 (reason), ...`. */
export const showHistory = (h: HistoryEntry[]) => h.map((e) => `${e.event}${e.node_id ? `@${e.node_id}` : ""}${e.reason ? ` (${e.reason})` : ""}`).join(", ");

/** The coordinator's log lines saying `node` missed its heartbeats (with what NATS said of its connection). */
export const silenceNoticed = (farm: LocalFarm, node: string): string[] =>
  farm.coordinator
    .output()
    .split("\n")
    .filter((l) => l.includes('"msg":"node missed its heartbeats"') && l.includes(`"node_id":"${node}"`));

/**
 * The job's view once it runs on an agent that has reported progress: `running` alone can be
 * a dispatch the agent's broker then refuses ("Service 'agent.startMany' is not found": the
 * coordinator heard the agent's reports before the mesh registered its service, which a
 * loaded machine makes last seconds); the job then moves to another node, and a test that
 * took the first node for the one running it faults the wrong agent.
 */
export async function waitStarted(farm: LocalFarm, id: string, timeoutMs = 60_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  let last: Record<string, unknown> = {};
  while (Date.now() < deadline) {
    last = (await http(farm.url, "GET", `/api/v1/jobs/${id}`)).body;
    if (last.status === "running" && Number(last.progress) > 0) return last;
    if (["completed", "failed", "cancelled"].includes(String(last.status))) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`job ${id} never ran with progress: ${JSON.stringify(last)}`);
}
