/**
 * Redis loses the farm's data under a running farm (issue 18 item 4), every role its own
 * process (farm:local: coordinator with HA on, Redis with a password). A job is running on
 * the agent and a synchronous request waits on it; then Redis is flushed. The waiter must
 * get an error within seconds, not hang until its sync timeout (120 s), and the agent must
 * stop the orphaned job instead of running it to the end.
 * Before the fix the waiter polled through NOT_FOUND until the timeout and the coordinator
 * kept the lost job in memory, its agent running on.
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { startLocalFarm, type LocalFarm } from "../../deploy/servers/farm-procs.ts";
import { infraAvailable } from "../../deploy/servers/infra.ts";
import { http, waitStatus } from "../helpers/http.ts";

const skip = infraAvailable() ? false : "redis-server / nats-server not installed";
let farm: LocalFarm;

beforeAll(async () => {
  if (skip) return;
  farm = await startLocalFarm({
    agents: 1,
    // info: the agent's "cancelling task" line is what shows it dropped the job.
    env: { FARM_LOG_LEVEL: "info", FARM_AGENT__PLUGINS: '["diag"]', FARM_API__RATE_LIMITS__ENABLED: "false", FARM_API__SYNC_WAIT_S: "120" },
  });
});

afterAll(async () => {
  await farm?.stop();
});

test.skipIf(skip)("Redis flushed under a running job: the sync waiter gets an error within seconds and the agent drops the job", async () => {
  const sync = http(farm.url, "POST", "/api/v1/jobs?wait=true", { type: "diag.sleep", params: { seconds: 60, steps: 60 } });
  // The job is the only one: find it through the admin listing (auth is off in farm:local).
  let id = "";
  const deadline = Date.now() + 60_000;
  while (!id && Date.now() < deadline) {
    const list = await http<{ jobs: { job_id: string; status: string }[] }>(farm.url, "GET", "/api/v1/jobs/list");
    id = list.body.jobs?.[0]?.job_id ?? "";
    if (!id) await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(id, "the sync job never appeared");
  await waitStatus(farm.url, id, "running", 60_000);
  await new Promise((r) => setTimeout(r, 1000));

  const redis = new Redis(farm.redis.url);
  const flushedAt = Date.now();
  try {
    await redis.flushall();
  } finally {
    redis.disconnect();
  }
  const answer = await sync;
  const waited = Date.now() - flushedAt;
  const body = answer.body as { error?: boolean; code?: string; message?: string };
  assert.equal(body.error, true, `the waiter got no error: ${answer.status} ${JSON.stringify(body)}`);
  assert.ok(["SERVICE_UNAVAILABLE", "NOT_FOUND"].includes(String(body.code)), JSON.stringify(body));
  assert.ok(waited < 20_000, `the waiter answered ${waited} ms after the loss`);
  console.log(`waiter answered ${answer.status} ${String(body.code)} ${waited} ms after FLUSHALL: ${String(body.message)}`);

  // The agent stops the orphaned job (told by a cancel, or by its next heartbeat's answer).
  const stopped = () =>
    farm.agents[0]!.output()
      .split("\n")
      .some((l) => l.includes('"msg":"cancelling task"') && l.includes(id));
  const agentDeadline = Date.now() + 30_000;
  while (!stopped() && Date.now() < agentDeadline) await new Promise((r) => setTimeout(r, 250));
  assert.ok(
    stopped(),
    `the agent kept running the lost job:\n${farm.agents[0]!.output().slice(-2000)}\n--- coordinator\n${farm.coordinator.output().slice(-3000)}`,
  );
});
