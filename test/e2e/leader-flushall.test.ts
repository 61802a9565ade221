/**
 * FLUSHALL under a running HA farm (issue 18 residual 3), every role its own process over
 * real nats-server and redis-server: two coordinators, one agent. Redis loses the leader
 * lease and the epoch counter with everything else. Some coordinator must lead again with an
 * epoch above every epoch handed out before (the counter used to restart at 1, the epoch of
 * the first leader, so a deposed leader's writes could pass the fence again), and jobs
 * submitted afterwards complete, each once.
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import type { Redis } from "ioredis";
import { infraAvailable } from "../../deploy/servers/infra.ts";
import { sleep, startHaFarm, type HaFarm } from "../helpers/ha-farm.ts";

const skip = infraAvailable() ? false : "redis-server / nats-server not installed";
let ha: HaFarm;
let redis: Redis;

beforeAll(async () => {
  if (skip) return;
  ha = await startHaFarm({ agents: 1 });
  redis = ha.redis;
});
afterAll(async () => {
  await ha?.stop();
});

const prefix = () => ha.farm.env.FARM_REDIS__PREFIX!;
const leaderEpoch = () => ha.leaderEpoch();
const until: HaFarm["until"] = (what, f, timeoutMs) => ha.until(what, f, timeoutMs);
const submitSleeps = (n: number, seconds: number) => ha.submitSleeps(n, seconds, 2);
const assertCompletedOnce = (ids: string[]) => ha.assertCompletedOnce(ids);
const elected = () => ha.elected();

test.skipIf(skip)("FLUSHALL under a running farm: a leader again within seconds, with an epoch above every earlier one; later jobs complete once", async () => {
  const before = await until("a leader", leaderEpoch, 30_000);
  await assertCompletedOnce(await submitSleeps(2, 0.2));
  // Sample the lease all along: the epoch in Redis must never go down.
  const samples: number[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const e = await leaderEpoch().catch(() => null);
      if (e !== null) samples.push(e);
      await sleep(50);
    }
  })();
  try {
    await submitSleeps(2, 1); // running or queued at the flush: lost with the store (reconciled elsewhere)
    await sleep(500);
    const electionsBefore = elected().length;
    const highestBefore = Math.max(before, ...elected());
    const t0 = Date.now();
    await redis.flushall();
    // A new election (logged), then the lease it wrote.
    await until("an election after FLUSHALL", async () => elected().length > electionsBefore, 20_000);
    const after = await until("a leader after FLUSHALL", leaderEpoch, 20_000);
    const tookOver = Date.now() - t0;
    console.log(`FLUSHALL: leader again after ${tookOver} ms, epoch ${before} -> ${after}`);
    assert.ok(after > highestBefore, `epoch after FLUSHALL ${after} is not above ${highestBefore}`);
    assert.ok(Number(await redis.get(`${prefix()}leader:epoch`)) >= after);
    const ids = await until("a submit through the new leader", async () => submitSleeps(4, 0.3), 20_000);
    await assertCompletedOnce(ids);
  } finally {
    sampling = false;
    await sampler;
  }
  for (let i = 1; i < samples.length; i++) assert.ok(samples[i]! >= samples[i - 1]!, `the leader epoch went down: ${samples[i - 1]} -> ${samples[i]}`);
  const epochs = elected();
  assert.equal(new Set(epochs).size, epochs.length, `an epoch was handed out twice: ${epochs.join(",")}`);
});
