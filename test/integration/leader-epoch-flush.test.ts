/**
 * The leader epoch after Redis loses its keys (issue 18 residual 3), on a real redis-server:
 * FLUSHALL (or a restart without AOF) removes `leader` and `leader:epoch`. The counter used
 * to restart at 1, so a deposed leader's old epoch came round again after a few elections
 * and its writes passed the store's fence beside the new leader's. Now a lost counter is
 * seeded from Redis's clock and never below what the acquiring coordinator has seen.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, it } from "vitest";
import { FencedError } from "../../coordinator/stores/redis-fence.ts";
import { LeaderLease } from "../../coordinator/leader-lease.ts";
import { makeJob } from "../unit/coordinator-store-contract.ts";
import { useLeaderRedis } from "../helpers/leader-redis.ts";

const redis = useLeaderRedis();
const client = redis.client;

const prefix = () => redis.prefix("lf");
/** One election: the holder takes the free lease and hands it back at once (a clean stop). */
async function term(lease: LeaderLease): Promise<number> {
  const e = await lease.acquire();
  assert.ok(e !== null, `${lease.holder} could not take a free lease`);
  await lease.release(e);
  return e;
}

describe("leader epoch after Redis loses its keys", () => {
  it("a fresh counter starts from Redis's clock, grows by one per election, and after FLUSHALL restarts above every epoch handed out", async () => {
    const p = prefix();
    const [t] = await client().time();
    const first = await term(new LeaderLease(client(), p, "a#1", 2000));
    assert.ok(first >= Number(t) * 1000, `first epoch ${first} is not seeded from the clock (${t} s)`);
    assert.ok(Number.isSafeInteger(first));
    const given = [first];
    for (let i = 0; i < 5; i++) given.push(await term(new LeaderLease(client(), p, `x${i}#1`, 2000)));
    assert.deepEqual(
      given,
      given.map((_, i) => first + i),
      "each election raises the epoch by one",
    );
    await client().flushall();
    // A holder that never saw any of them (a standby started after the flush).
    const after = await term(new LeaderLease(client(), p, "fresh#1", 2000));
    assert.ok(after > Math.max(...given), `epoch ${after} after FLUSHALL is not above ${Math.max(...given)}`);
  });

  it("a counter restored lower than what a coordinator saw (an old snapshot) gives that coordinator an epoch above it", async () => {
    const p = prefix();
    const lease = new LeaderLease(client(), p, "a#1", 2000);
    const e = await term(lease);
    await client().set(`${p}leader:epoch`, "3");
    const next = await term(lease);
    assert.equal(next, e + 1);
    assert.equal(lease.highestSeen, next);
    // The counter now holds it: the next holder continues from there.
    assert.equal(await term(new LeaderLease(client(), p, "b#1", 2000)), next + 1);
  });

  it("a leader paused across a FLUSHALL can never write again, however many elections follow", async () => {
    const p = prefix();
    const leaseA = new LeaderLease(client(), p, "a#1", 500);
    const epochA = (await leaseA.acquire())!;
    // A's view never changes: it is paused and does not know Redis lost everything.
    const a = redis.fencedStore(p, () => epochA);
    const storeA = a.store;
    let epochB: number | null = null;
    const storeB = redis.fencedStore(p, () => epochB).store;
    const mine = makeJob({ id: `job-${randomUUID()}` });
    await storeA.create(mine);
    await client().flushall();
    const refused = (e: unknown) => e instanceof FencedError && e.message.includes(`FENCED epoch ${epochA} `);
    // Elections after the loss (each standby fresh, each term ends): A's epoch never comes round.
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) {
      const lease = new LeaderLease(client(), p, `b${i}#1`, 500);
      epochB = await lease.acquire();
      assert.ok(epochB !== null && epochB > epochA, `election ${i} after FLUSHALL gave epoch ${epochB}, not above the paused leader's ${epochA}`);
      seen.push(epochB);
      const job = makeJob({ id: `job-${randomUUID()}` });
      await storeB.create(job);
      await assert.rejects(storeA.create(makeJob({ id: `job-${randomUUID()}` })), refused, `A wrote in election ${i}`);
      await assert.rejects(
        storeA.transition(job.id, ["pending"], { status: "running", updated_at: 2 }, { grantLease: { node_id: "n1", expires_at: 9e12 } }),
        refused,
      );
      assert.equal((await storeB.get(job.id))?.status, "pending", "A's transition reached Redis");
      await lease.release(epochB);
    }
    assert.equal(new Set(seen).size, seen.length, `epochs repeated: ${seen.join(",")}`);
    assert.equal(a.refusals(), 12, "every write of A was refused by the fence");
    // Nothing A wrote after the flush exists; B's jobs do.
    assert.equal(await storeB.get(mine.id), null);
  });
});
