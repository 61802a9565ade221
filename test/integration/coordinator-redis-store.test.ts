/** The JobStore contract against a real redis-server, one key prefix per test. */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { startRedis, type ServerHandle } from "../../deploy/servers/infra.ts";
import { RedisJobStore } from "../../coordinator/stores/redis-store.ts";
import type { JobStore } from "../../coordinator/job-store.ts";
import { makeJob, runJobStoreContract } from "../unit/coordinator-store-contract.ts";

let server: ServerHandle;
before(async () => {
  server = await startRedis();
});
after(async () => {
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
      assert.ok(keys.every((k) => /^(farmA|farmB|t-[0-9a-f]{8}):/.test(k)), "no key without a prefix");
    } finally {
      await a.close();
      await b.close();
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
