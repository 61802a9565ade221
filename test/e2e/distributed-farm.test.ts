/**
 * The truth about distribution: every role its own process over real nats-server,
 * redis-server and s3rver. Agents are killed with SIGKILL, the coordinator is restarted
 * mid-run, jobs are cancelled, and a WebSocket client watches.
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import { startLocalFarm, type LocalFarm } from "../../deploy/servers/farm-procs.ts";
import { http, waitJob, waitStatus, collectWs } from "../helpers/http.ts";

let farm: LocalFarm;

beforeAll(async () => {
  farm = await startLocalFarm({
    agents: 2,
    env: {
      FARM_AGENT__PLUGINS: '["diag"]',
      FARM_AGENT__TELEMETRY_INTERVAL_MS: "500",
      FARM_AGENT__CANCEL_GRACE_MS: "500",
      FARM_AGENT__DRAIN_TIMEOUT_MS: "2000",
      FARM_COORDINATOR__LEASE_MS: "8000",
      FARM_COORDINATOR__SWEEP_INTERVAL_MS: "250",
      FARM_API__RATE_LIMITS__ENABLED: "false",
    },
  });
});

afterAll(async () => {
  await farm?.stop();
});

const submit = async (type: string, params: Record<string, unknown> = {}) => {
  const r = await http(farm.url, "POST", "/api/v1/jobs", { type, params });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  return String(r.body.job_id);
};

test("a job runs on an agent and its output is in the spec's shape", async () => {
  const id = await submit("diag.echo", { hello: "farm" });
  const job = await waitJob(farm.url, id);
  assert.equal(job.status, "completed");
  assert.deepEqual((job.result as { echo: unknown }).echo, { hello: "farm" });
  assert.match(String(job.node_id), /^agent-[12]$/);
});

test("a burst of concurrent sync requests: batched mesh messages give every caller its own job, result and error, each job run once", async () => {
  // Hundreds in flight at once make the API, coordinator and agents send multi-item
  // batches (submitMany, startMany, reportMany, job.events); a few failing jobs ride along
  // (failing on their own input, so the nodes are not blocklisted for diag.fail).
  const good = Array.from({ length: 240 }, (_, i) => http(farm.url, "POST", "/api/v1/jobs?wait=true", { type: "diag.echo", params: { i } }));
  const bad = Array.from({ length: 10 }, (_, i) =>
    http(farm.url, "POST", "/api/v1/jobs?wait=true", { type: "diag.fail", params: { message: `boom ${i}`, code: "VALIDATION_ERROR" } }),
  );
  const [ok, failed] = await Promise.all([Promise.all(good), Promise.all(bad)]);
  const ids = new Set<string>();
  ok.forEach((r, i) => {
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.status, "completed");
    assert.deepEqual((r.body.result as { echo: unknown }).echo, { i }, "each caller gets its own job's result");
    ids.add(String(r.body.job_id));
  });
  assert.equal(ids.size, 240, "distinct jobs");
  // The jobs endpoint answers a finished job with its view, failed ones included.
  failed.forEach((r, i) => {
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.status, "failed");
    assert.equal(r.body.error, `boom ${i}`, "each failure carries its own message");
  });
  // Exactly once: a single dispatch and a single completion in every job's history.
  const sample = [...ids].slice(0, 40);
  for (const id of sample) {
    const why = await http(farm.url, "GET", `/api/v1/jobs/${id}/why`);
    const events = (why.body.history as { event: string }[]).map((h) => h.event);
    assert.equal(events.filter((e) => e === "dispatched").length, 1, `${id}: ${events.join(",")}`);
    assert.equal(events.filter((e) => e === "completed").length, 1, `${id}: ${events.join(",")}`);
  }
});

test("kill -9 an agent while it runs a job: the job completes on the other agent, exactly once", async () => {
  const id = await submit("diag.sleep", { seconds: 3, steps: 6 });
  const running = await waitStatus(farm.url, id, "running");
  const victimName = String(running.node_id);
  const victim = farm.agents.find((a) => a.name === victimName)!;
  assert.ok(victim, `job runs on ${victimName}`);
  await victim.kill9();
  const job = await waitJob(farm.url, id, 45_000);
  assert.equal(job.status, "completed", JSON.stringify(job));
  assert.notEqual(job.node_id, victimName, "completed on the surviving agent");
  assert.equal(job.attempts, 2);
  const why = await http(farm.url, "GET", `/api/v1/jobs/${id}/why`);
  const history = (why.body.history as { event: string; node_id?: string }[]).map((h) => h.event);
  assert.equal(history.filter((e) => e === "completed").length, 1, `history: ${history.join(", ")}`);
  // Bring the farm back to two agents for the next tests.
  const idx = farm.agents.indexOf(victim);
  farm.agents[idx] = farm.startRole(victimName, "agent");
  await farm.waitForAgents(2);
});

test("restart the coordinator mid-run: nothing is lost", async () => {
  const running = await submit("diag.sleep", { seconds: 2, steps: 4 });
  await waitStatus(farm.url, running, "running");
  const queued = await Promise.all([1, 2, 3].map((i) => submit("diag.echo", { i })));
  await farm.restartCoordinator();
  for (const id of [running, ...queued]) {
    const job = await waitJob(farm.url, id, 45_000);
    assert.equal(job.status, "completed", `${id}: ${JSON.stringify(job)}`);
  }
});

test("cancel a running job: the agent stops it and the status is cancelled", async () => {
  const id = await submit("diag.sleep", { seconds: 60, steps: 60, child: true });
  const running = await waitStatus(farm.url, id, "running");
  const c = await http(farm.url, "POST", `/api/v1/jobs/${id}/cancel`);
  assert.equal(c.status, 200, JSON.stringify(c.body));
  const job = await waitJob(farm.url, id, 20_000);
  assert.equal(job.status, "cancelled");
  // The agent no longer runs it (seen through its next heartbeats: 30 s of room on a loaded machine).
  const deadline = Date.now() + 30_000;
  for (;;) {
    const nodes = (await http(farm.url, "GET", "/api/v1/farm/nodes")).body.nodes as { node_id: string; running_jobs: string[] }[];
    const holder = nodes.find((n) => n.node_id === running.node_id);
    if (holder && !holder.running_jobs.includes(id)) break;
    assert.ok(Date.now() < deadline, "agent still lists the cancelled job");
    await new Promise((r) => setTimeout(r, 100));
  }
});

test("a WebSocket client sees progress, then completion", async () => {
  const id = await submit("diag.sleep", { seconds: 1.5, steps: 5 });
  const { messages } = await collectWs(`${farm.url.replace("http", "ws")}/ws/${id}`, 30_000);
  const types = messages.map((m) => m.type);
  assert.ok(types.includes("progress"), `got ${types.join(",")}`);
  assert.equal(types[types.length - 1], "completed");
  const last = messages[messages.length - 1]!;
  assert.equal(last.job_id, id);
  const progress = messages.filter((m) => m.type === "progress").map((m) => Number(m.progress));
  assert.ok(
    progress.some((p) => p > 0 && p < 100),
    `intermediate progress seen: ${progress.join(",")}`,
  );
});

test("a job type no node offers fails fast with 503 naming the capability", async () => {
  const r = await http(farm.url, "POST", "/api/v1/jobs", { type: "video.generate", params: { prompt: "x" } });
  assert.equal(r.status, 503);
  assert.equal(r.body.code, "CAPABILITY_UNAVAILABLE");
  assert.match(String(r.body.message), /video\.generate/);
});
