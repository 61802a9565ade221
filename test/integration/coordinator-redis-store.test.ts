/** The JobStore contract against a real redis-server, one key prefix per test. */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, it } from "vitest";
import { Redis } from "ioredis";
import { startRedis, type ServerHandle } from "../../deploy/servers/infra.ts";
import { RedisJobStore } from "../../coordinator/stores/redis-store.ts";
import type { JobStore } from "../../coordinator/job-store.ts";
import { makeJob, runJobStoreContract } from "../unit/coordinator-store-contract.ts";

let server: ServerHandle;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server.stop();
});

const prefixes = new WeakMap<JobStore, string>();
runJobStoreContract("redis", {
  async open() {
    const prefix = `t-${randomUUID().slice(0, 8)}:`;
    const s = new RedisJobStore({ url: server.url, prefix });
    prefixes.set(s, prefix);
    return s;
  },
  async reopen(store) {
    const prefix = prefixes.get(store)!;
    await store.close();
    const s = new RedisJobStore({ url: server.url, prefix });
    prefixes.set(s, prefix);
    return s;
  },
});

describe("RedisJobStore specifics", () => {
  it("keeps every key under its prefix, so two farms share one Redis without seeing each other", async () => {
    const a = new RedisJobStore({ url: server.url, prefix: "farmA:" });
    const b = new RedisJobStore({ url: server.url, prefix: "farmB:" });
    const raw = new Redis(server.url);
    try {
      const job = makeJob({ idempotency_key: "same-key" });
      await a.create(job);
      assert.equal(await b.get(job.id), null);
      assert.equal((await b.create(makeJob({ idempotency_key: "same-key" }))).created, true);
      const keys = await raw.keys("*");
      const mine = keys.filter((k) => k.includes(job.id) || k.includes("same-key"));
      assert.deepEqual(mine.filter((k) => k.includes(job.id)).sort(), [`farmA:hist:${job.id}`, `farmA:job:${job.id}`]);
      assert.deepEqual(mine.filter((k) => k.includes("same-key")).sort(), ["farmA:idem:same-key", "farmB:idem:same-key"]);
      assert.ok(
        keys.every((k) => /^(farmA|farmB|t-[0-9a-f]{8}):/.test(k)),
        "no key without a prefix",
      );
    } finally {
      await a.close();
      await b.close();
      raw.disconnect();
    }
  });

  it("indexes owners of jobs written before the owner index existed, once, on the first owner listing", async () => {
    const prefix = `t-${randomUUID().slice(0, 8)}:`;
    const s = new RedisJobStore({ url: server.url, prefix });
    const raw = new Redis(server.url);
    let fresh: RedisJobStore | undefined;
    try {
      const a1 = makeJob({ owner: "alice" });
      const b1 = makeJob({ owner: "bob" });
      const a2 = makeJob({ owner: "alice" });
      const anon = makeJob();
      for (const j of [a1, b1, a2, anon]) await s.create(j);
      await s.transition(a2.id, ["pending"], { status: "cancelled" });
      // What an older farm version left behind: the same jobs, no owner sets, no marker.
      await raw.del(`${prefix}o:alice`, `${prefix}o:bob`, `${prefix}uo`, `${prefix}ov`);
      fresh = new RedisJobStore({ url: server.url, prefix });
      const alice = await fresh.list({ owner: "alice", limit: 10, offset: 0 });
      assert.deepEqual(
        alice.jobs.map((j) => j.id),
        [a2.id, a1.id],
      );
      assert.equal(alice.total, 2);
      assert.deepEqual(
        (await fresh.list({ owner: "alice", status: "cancelled", limit: 10, offset: 0 })).jobs.map((j) => j.id),
        [a2.id],
      );
      assert.deepEqual(
        (await fresh.list({ owner: null, limit: 10, offset: 0 })).jobs.map((j) => j.id),
        [anon.id],
      );
      assert.equal(await raw.get(`${prefix}ov`), "1", "the prefix is marked as indexed");
      assert.equal(await raw.exists(`${prefix}tmp:list`), 0, "the intersection's scratch key is gone");
    } finally {
      await s.close();
      await fresh?.close();
      raw.disconnect();
    }
  });

  it("still works after Redis forgot its script cache (EVALSHA falls back to EVAL)", async () => {
    const s = new RedisJobStore({ url: server.url, prefix: `t-${randomUUID().slice(0, 8)}:` });
    const raw = new Redis(server.url);
    try {
      const job = makeJob();
      await s.create(job);
      await raw.script("FLUSH");
      const r = await s.transition(job.id, ["pending"], { status: "running", node_id: "n" }, { grantLease: { node_id: "n", expires_at: 5 } });
      assert.equal(r?.lease?.token, 1);
    } finally {
      await s.close();
      raw.disconnect();
    }
  });
});
