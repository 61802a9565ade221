/** The Coordinator over a real Redis: the distributed mode's store, same behaviour as embedded. */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import { afterAll, beforeAll, describe, it } from "vitest";
import { ManualClock } from "../../core/clock.ts";
import { FarmError } from "../../core/errors.ts";
import { startRedis, type ServerHandle } from "../../deploy/servers/infra.ts";
import { RedisJobStore } from "../../coordinator/stores/redis-store.ts";
import { harness, type Harness } from "../unit/coordinator-harness.ts";

let server: ServerHandle;
const open: Harness[] = [];
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  for (const x of open) {
    await x.shutdown().catch(() => {});
    fs.rmSync(x.dir, { recursive: true, force: true });
  }
  await server.stop();
});

async function h(prefix: string, clock?: ManualClock): Promise<Harness> {
  const x = await harness({ store: new RedisJobStore({ url: server.url, prefix }), ...(clock ? { clock } : {}) });
  open.push(x);
  return x;
}

describe("Coordinator on Redis", () => {
  it("re-queues a lost node's job and completes it once on another node; the old token is refused", async () => {
    const x = await h(`c-${randomUUID().slice(0, 8)}:`);
    await x.heartbeat({ id: "a" });
    const job = await x.coord.submit({ type: "diag.echo", params: { text: "hello", tags: [] } });
    await x.settle();
    await x.heartbeat({ id: "b" });
    await x.coord.nodeLost("a");
    await x.settle();
    const t = x.dispatcher.last(job.id);
    assert.equal(t.node, "b");
    assert.equal(t.task.token, 2);
    await assert.rejects(
      x.coord.reportCompleted({ node_id: "a", job_id: job.id, token: 1, result: {} }),
      (e: unknown) => e instanceof FarmError && e.code === "STALE_LEASE",
    );
    await x.coord.reportCompleted({ node_id: "b", job_id: job.id, token: 2, result: { text: "hello" }, message: "step 2/2" });
    const done = await x.coord.get(job.id);
    assert.equal(done.status, "completed");
    assert.equal(done.message, "step 2/2", "the completion's last progress message is stored in Redis too");
    assert.deepEqual(done.params, { text: "hello", tags: [] });
    assert.deepEqual(done.result, { text: "hello" });
  });

  it("recovers queued and running jobs when a new coordinator starts over the same Redis", async () => {
    const prefix = `c-${randomUUID().slice(0, 8)}:`;
    const clock = new ManualClock();
    const first = await h(prefix, clock);
    await first.heartbeat({ id: "a", max: 1 });
    const running = await first.coord.submit({ type: "diag.echo" });
    const queued = await first.coord.submit({ type: "diag.echo", priority: 7 });
    await first.settle();
    await first.shutdown();
    const second = await h(prefix, clock);
    await second.heartbeat({ id: "a", max: 1 }, [{ job_id: running.id, token: 1 }]);
    await second.coord.reportCompleted({ node_id: "a", job_id: running.id, token: 1, result: {} });
    await second.settle();
    assert.equal(second.dispatcher.last(queued.id).node, "a");
    const counts = (await second.coord.status()).counts["diag.echo"];
    assert.deepEqual(counts, { completed: 1, running: 1 });
  });
});
