/**
 * One coordinator (no HA) restarted after an outage longer than lease_ms: the leases it
 * recovers have lapsed in the store, but the agents may still be running those jobs and
 * could not renew them while no coordinator was there. A recovered lease runs at least
 * lease_ms from the start, and the agent's first report settles its jobs as under HA: the
 * ones it lists keep running, the ones it does not list go back to the queue at once.
 * Reports that reach it while it serves on the mesh but has not recovered the leases yet
 * are not called stale (the agent would abort the job, or drop its result): they are to be
 * sent again. Event order on a manual clock; the sweep is driven by hand.
 */
import assert from "node:assert/strict";
import { describe, it } from "vitest";
import { harnessPerFile, CONFIG, FakeDispatcher } from "./coordinator-harness.ts";
import type { Harness } from "./coordinator-harness.ts";
import { report } from "./coordinator-fixtures.ts";
import { Coordinator } from "../../coordinator/coordinator.ts";
import { EmbeddedJobStore } from "../../coordinator/stores/embedded-store.ts";
import { FarmError } from "../../core/errors.ts";
import { silentLogger } from "../../core/logger.ts";

const h = harnessPerFile();
const OUTAGE_MS = CONFIG.lease_ms + 5_000;

/** Node "a" runs one job; the coordinator stops, stays down past the lease, and restarts on the same store. */
async function restartAfterOutage(): Promise<{ next: Harness; job: string; t0: number }> {
  const first = await h();
  await first.heartbeat({ id: "a" });
  const job = (await first.coord.submit({ type: "diag.echo" })).id;
  await first.settle();
  assert.equal(first.dispatcher.last(job).node, "a");
  await first.shutdown();
  first.clock.advance(OUTAGE_MS);
  const next = await h({ dir: first.dir, clock: first.clock });
  const stored = await next.coord.get(job);
  assert.ok(stored.lease && stored.lease.expires_at < next.clock.now(), "the stored lease has lapsed");
  return { next, job, t0: next.clock.now() };
}

const requeued = (rec: { history: { event: string }[] }) => rec.history.some((e) => e.event === "requeued");

describe("one coordinator restarted after an outage longer than the lease", () => {
  it("keeps the job its agent reports: the first sweep does not re-queue it, the report renews it", async () => {
    const { next, job } = await restartAfterOutage();
    await next.coord.sweep();
    await next.settle();
    assert.equal((await next.coord.get(job)).status, "running", "not re-queued by the first sweep");
    // The agent reports late in the recovered lease; the report renews it from then on.
    next.clock.advance(CONFIG.lease_ms / 2);
    await next.heartbeat({ id: "a" }, [{ job_id: job, token: 1 }]);
    next.clock.advance(CONFIG.lease_ms - 1);
    await next.coord.sweep();
    await next.settle();
    const rec = await next.coord.get(job);
    assert.equal(rec.status, "running");
    assert.equal(requeued(rec), false, JSON.stringify(rec.history));
    assert.equal(next.dispatcher.started.length, 0, "the job is not sent again");
    await next.coord.reportCompleted({ node_id: "a", job_id: job, token: 1, result: { ok: true } });
    assert.equal((await next.coord.get(job)).status, "completed", "the agent's result is taken");
  });

  it("re-queues at once the job its agent's first report does not list", async () => {
    const { next, job, t0 } = await restartAfterOutage();
    // An agent that once served an HA leader still sends its epoch: one coordinator ignores it.
    const answer = await next.coord.nodeHeartbeat({ ...report({ id: "a" }), leases: [], leader_epoch: 2 });
    assert.equal(answer.leader_epoch, undefined, "one coordinator names no epoch");
    await next.settle();
    const rec = await next.coord.get(job);
    const requeue = rec.history.find((e) => e.event === "requeued");
    assert.ok(requeue, JSON.stringify(rec.history));
    assert.match(String(requeue.reason), /does not list the job in its first report to this coordinator/);
    assert.equal(rec.attempts, 1, "the attempt that never ran is given back, then spent by the new dispatch");
    const sent = next.dispatcher.last(job);
    assert.equal(sent.node, "a");
    assert.equal(sent.task.token, 2, "a fresh token");
    assert.equal(next.clock.now(), t0, "no time passed: not a lease expiry");
  });

  it("without any report from its agent, re-queues the job lease_ms after the start, not before", async () => {
    const { next, job, t0 } = await restartAfterOutage();
    // Another node's report settles nothing on "a"; it gives the job somewhere to go.
    await next.heartbeat({ id: "b" }, []);
    next.clock.advance(CONFIG.lease_ms - 1);
    await next.coord.sweep();
    await next.settle();
    assert.equal((await next.coord.get(job)).status, "running", "one millisecond before lease_ms from the start");
    assert.equal(next.dispatcher.started.length, 0);
    next.clock.advance(1);
    assert.equal(next.clock.now(), t0 + CONFIG.lease_ms);
    await next.coord.sweep();
    await next.settle();
    assert.ok(requeued(await next.coord.get(job)));
    assert.equal(next.dispatcher.last(job).node, "b");
    assert.equal(next.dispatcher.last(job).task.token, 2);
  });
});

const code = (code: string) => (e: unknown) => e instanceof FarmError && e.code === code;

describe("reports that reach a restarted coordinator before it has recovered its leases", () => {
  it("are SERVICE_UNAVAILABLE (sent again), not STALE_LEASE; the same completion after start() is taken", async () => {
    const first = await h();
    await first.heartbeat({ id: "a" });
    const job = (await first.coord.submit({ type: "diag.echo" })).id;
    await first.settle();
    await first.shutdown();
    const store = await EmbeddedJobStore.open({ dir: first.dir });
    const coord = new Coordinator({ store, clock: first.clock, config: CONFIG, dispatcher: new FakeDispatcher(), publish: () => {}, logger: silentLogger });
    try {
      // Serving, not started: the agent's progress and its result arrive.
      await assert.rejects(coord.reportProgress({ node_id: "a", job_id: job, token: 1, progress: 50 }), code("SERVICE_UNAVAILABLE"));
      await assert.rejects(coord.reportCompleted({ node_id: "a", job_id: job, token: 1, result: { ok: 1 } }), code("SERVICE_UNAVAILABLE"));
      await assert.rejects(
        coord.reportFailed({ node_id: "a", job_id: job, token: 1, error: { code: "GPU_ERROR", message: "x" }, retryable: true }),
        code("SERVICE_UNAVAILABLE"),
      );
      await coord.start();
      // A token that is not current is still stale once the leases are known.
      await assert.rejects(coord.reportCompleted({ node_id: "a", job_id: job, token: 2, result: {} }), code("STALE_LEASE"));
      await coord.reportCompleted({ node_id: "a", job_id: job, token: 1, result: { ok: 1 } });
      const rec = await coord.get(job);
      assert.equal(rec.status, "completed");
      assert.deepEqual(rec.result, { ok: 1 });
    } finally {
      await coord.stop();
      await store.close();
    }
  });
});
