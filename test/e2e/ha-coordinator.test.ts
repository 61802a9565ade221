/**
 * Coordinator high availability, every role its own process over real nats-server and
 * redis-server (issue 15 item 1): two coordinators, one leading through the lease in Redis.
 * - kill -9 of the leader: the standby leads within 5 s, jobs queued and running at the
 *   time complete, each once, and the API and agents follow without a restart;
 * - SIGSTOP of the leader past its lease, then SIGCONT: the standby took over with a higher
 *   epoch, the resumed one steps down (never two leaders), jobs complete once.
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { startLocalFarm, type LocalFarm, type RoleProcess } from "../../deploy/servers/farm-procs.ts";
import { http, waitJob } from "../helpers/http.ts";

let farm: LocalFarm;
let redis: Redis;
const LEASE_MS = 3000;

beforeAll(async () => {
  farm = await startLocalFarm({
    agents: 2,
    coordinators: 2,
    env: {
      FARM_AGENT__PLUGINS: '["diag"]',
      FARM_AGENT__TELEMETRY_INTERVAL_MS: "500",
      FARM_COORDINATOR__LEASE_MS: "8000",
      FARM_COORDINATOR__SWEEP_INTERVAL_MS: "250",
      FARM_COORDINATOR__LEADER__LEASE_MS: String(LEASE_MS),
      FARM_COORDINATOR__LEADER__RENEW_MS: "500",
      FARM_API__RATE_LIMITS__ENABLED: "false",
      FARM_LOG_LEVEL: "info",
    },
  });
  redis = new Redis(farm.redis.url);
});
afterAll(async () => {
  redis?.disconnect();
  await farm?.stop();
});

const prefix = () => farm.env.FARM_REDIS__PREFIX!;
async function leader(): Promise<{ proc: RoleProcess; epoch: number } | null> {
  const v = await redis.get(`${prefix()}leader`);
  const m = v ? /^(.*)#[0-9a-f]+ (\d+)$/.exec(v) : null;
  const proc = m ? farm.coordinators.find((c) => c.name === m[1]) : undefined;
  return proc && m ? { proc, epoch: Number(m[2]) } : null;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, f: () => Promise<T | null | undefined | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f().catch(() => null);
    if (v) return v;
    if (Date.now() > deadline)
      throw new Error(`${what} not within ${timeoutMs} ms\n${farm.coordinators.map((c) => `--- ${c.name}\n${c.output().slice(-3000)}`).join("\n")}`);
    await sleep(50);
  }
}

async function submitSleeps(n: number, seconds: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await http(farm.url, "POST", "/api/v1/jobs", { type: "diag.sleep", params: { seconds, steps: 4 } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    ids.push(String(r.body.job_id));
  }
  return ids;
}

/** Every job completed, with exactly one completion in its history. */
async function assertCompletedOnce(ids: string[]): Promise<void> {
  for (const id of ids) {
    const job = await waitJob(farm.url, id, 60_000);
    assert.equal(job.status, "completed", JSON.stringify(job));
    const why = await http(farm.url, "GET", `/api/v1/jobs/${id}/why`);
    const events = (why.body.history as { event: string }[]).map((h) => h.event);
    assert.equal(events.filter((e) => e === "completed").length, 1, `${id}: ${events.join(",")}`);
  }
}

test("one coordinator leads, the other stands by and serves nothing", async () => {
  const l = await until("a leader", leader, 15_000);
  const standby = farm.coordinators.find((c) => c !== l.proc)!;
  assert.match(l.proc.output(), /coordinator elected leader/);
  assert.doesNotMatch(standby.output(), /coordinator elected leader/);
  const ids = await submitSleeps(2, 0.2);
  await assertCompletedOnce(ids);
});

test("kill -9 of the leader: the standby leads within 5 s; queued and running jobs complete once; the API follows", async () => {
  const old = await until("a leader", leader, 15_000);
  const ids = await submitSleeps(6, 2);
  await sleep(800); // some running, some queued
  const t0 = Date.now();
  await old.proc.kill9();
  const next = await until(
    "a new leader",
    async () => {
      const l = await leader();
      return l && l.proc !== old.proc ? l : null;
    },
    10_000,
  );
  const tookOver = Date.now() - t0;
  assert.equal(next.epoch, old.epoch + 1);
  // The API reaches the new leader by the service name: no restart.
  await until("the API answering through the new leader", async () => (await http(farm.url, "GET", "/api/v1/farm/status")).status === 200, 10_000);
  const served = Date.now() - t0;
  console.log(`leader killed: lease taken over after ${tookOver} ms, API served after ${served} ms`);
  assert.ok(tookOver <= 5000, `took over after ${tookOver} ms`);
  assert.ok(served <= 5000 + 1000, `API answered after ${served} ms`);
  await assertCompletedOnce(ids);
  // Put the killed one back as a standby for the next test.
  farm.coordinators[farm.coordinators.indexOf(old.proc)] = farm.startRole(old.proc.name, "coordinator");
});

test("SIGSTOP of the leader past its lease, then SIGCONT: the standby took over and the resumed one steps down", async () => {
  const old = await until("a leader", leader, 15_000);
  // The standby restarted by the previous test must be up (a tsx start takes seconds here).
  const standby = farm.coordinators.find((c) => c !== old.proc)!;
  await until("the standby started", async () => /started as node/.test(standby.output()), 60_000);
  const ids = await submitSleeps(4, 1);
  old.proc.child.kill("SIGSTOP");
  const t0 = Date.now();
  try {
    const next = await until(
      "the standby taking over",
      async () => {
        const l = await leader();
        return l && l.proc !== old.proc ? l : null;
      },
      10_000,
    );
    const tookOver = Date.now() - t0;
    console.log(`leader paused: lease taken over after ${tookOver} ms`);
    assert.ok(tookOver <= 5000, `took over after ${tookOver} ms`);
    assert.equal(next.epoch, old.epoch + 1);
    // Jobs submitted while the old leader is frozen are served by the new one.
    ids.push(...(await until("a submit through the new leader", async () => submitSleeps(2, 0.5), 15_000)));
  } finally {
    old.proc.child.kill("SIGCONT");
  }
  await until("the resumed leader stepping down", async () => /coordinator deposed: stops serving/.test(old.proc.output()), 10_000);
  await sleep(2000);
  const now = await leader();
  assert.ok(now && now.proc !== old.proc, "the resumed process does not lead again");
  assert.doesNotMatch(old.proc.output().split("coordinator deposed")[1] ?? "", /coordinator elected leader/, "it did not take the lease back");
  await assertCompletedOnce(ids);
});
