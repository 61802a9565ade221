/**
 * Coordinator high availability, every role its own process over real nats-server and
 * redis-server (issue 15 item 1): two coordinators, one leading through the lease in Redis.
 * - kill -9 of the leader: the standby takes over (the 5 s target is benched: chaos), jobs queued and running at the
 *   time complete, each once, and the API and agents follow without a restart;
 * - SIGSTOP of the leader past its lease, then SIGCONT: the standby took over with a higher
 *   epoch, the resumed one steps down (never two leaders), jobs complete once.
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import type { LocalFarm } from "../../deploy/servers/farm-procs.ts";
import { http } from "../helpers/http.ts";
import { sleep, startHaFarm, type HaFarm } from "../helpers/ha-farm.ts";

let ha: HaFarm;
let farm: LocalFarm;

beforeAll(async () => {
  ha = await startHaFarm({ agents: 2, env: { FARM_COORDINATOR__LEASE_MS: "8000" } });
  farm = ha.farm;
});
afterAll(async () => {
  await ha?.stop();
});

const leader = () => ha.leader();
const until: HaFarm["until"] = (what, f, timeoutMs) => ha.until(what, f, timeoutMs);
const submitSleeps = (n: number, seconds: number) => ha.submitSleeps(n, seconds);
const assertCompletedOnce = (ids: string[]) => ha.assertCompletedOnce(ids);

test("one coordinator leads, the other stands by and serves nothing", async () => {
  const l = await until("a leader", leader, 30_000);
  const standby = farm.coordinators.find((c) => c !== l.proc)!;
  assert.match(l.proc.output(), /coordinator elected leader/);
  assert.doesNotMatch(standby.output(), /coordinator elected leader/);
  const ids = await submitSleeps(2, 0.2);
  await assertCompletedOnce(ids);
});

test("kill -9 of the leader: the standby takes over (its 5 s target is benched); queued and running jobs complete once; the API follows", async () => {
  const old = await until("a leader", leader, 30_000);
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
    30_000,
  );
  const tookOver = Date.now() - t0;
  assert.equal(next.epoch, old.epoch + 1);
  // The API reaches the new leader by the service name: no restart.
  await until("the API answering through the new leader", async () => (await http(farm.url, "GET", "/api/v1/farm/status")).status === 200, 30_000);
  const served = Date.now() - t0;
  // The 5 s takeover target is measured by the chaos bench (BENCHMARKS.md "chaos"), not asserted
  // on wall clock here: a loaded CI machine running other test files beside this one could miss it.
  console.log(`leader killed: lease taken over after ${tookOver} ms, API served after ${served} ms`);
  await assertCompletedOnce(ids);
  // Put the killed one back as a standby for the next test.
  farm.coordinators[farm.coordinators.indexOf(old.proc)] = farm.startRole(old.proc.name, "coordinator");
});

test("SIGSTOP of the leader past its lease, then SIGCONT: the standby took over and the resumed one steps down", async () => {
  const old = await until("a leader", leader, 30_000);
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
      30_000,
    );
    const tookOver = Date.now() - t0;
    console.log(`leader paused: lease taken over after ${tookOver} ms (the 5 s target: chaos bench)`);
    assert.equal(next.epoch, old.epoch + 1);
    // Jobs submitted while the old leader is frozen are served by the new one.
    ids.push(...(await until("a submit through the new leader", async () => submitSleeps(2, 0.5), 30_000)));
  } finally {
    old.proc.child.kill("SIGCONT");
  }
  await until("the resumed leader stepping down", async () => /coordinator deposed: stops serving/.test(old.proc.output()), 30_000);
  await sleep(2000);
  const now = await leader();
  assert.ok(now && now.proc !== old.proc, "the resumed process does not lead again");
  assert.doesNotMatch(old.proc.output().split("coordinator deposed")[1] ?? "", /coordinator elected leader/, "it did not take the lease back");
  await assertCompletedOnce(ids);
});
