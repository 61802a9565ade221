/**
 * An agent restarted under the same node id (issue 15 item 4: kill recovery outliers of
 * 10-40 s). Its new process's first report shows a new `started_at`; the old process's
 * jobs, which the new one does not list, are re-queued at the new process's next report
 * instead of waiting for their lease to expire (they did, before: the mesh saw the node
 * come back before it saw it go, so no "node lost" ever came).
 */
import assert from "node:assert/strict";
import { describe, it } from "vitest";
import { harnessPerFile } from "./coordinator-harness.ts";
import { report } from "./coordinator-fixtures.ts";

const h = harnessPerFile();
type Leases = { job_id: string; token: number }[];

describe("Coordinator: a node restarted under the same id", () => {
  const beat = (x: Awaited<ReturnType<typeof h>>, id: string, startedAt: number, leases: Leases = []) =>
    x.coord.nodeHeartbeat({ ...report({ id }), started_at: startedAt, leases });

  it("re-queues the old process's job at the new process's second report, long before the lease expires", async () => {
    const x = await h();
    const t0 = x.clock.now();
    await beat(x, "a", 1000);
    const job = await x.coord.submit({ type: "diag.echo" });
    await x.settle();
    assert.equal(x.dispatcher.last(job.id).node, "a");
    await beat(x, "a", 1000, [{ job_id: job.id, token: 1 }]);
    await beat(x, "b", 500);
    // Process 1 of "a" dies; process 2 reports (no lease listed). Not re-queued yet: a
    // dispatch could have crossed this report.
    await beat(x, "a", 2000);
    await x.settle();
    assert.equal((await x.coord.get(job.id)).status, "running");
    await beat(x, "a", 2000);
    await x.settle();
    const rec = await x.coord.get(job.id);
    const requeue = rec.history.find((e) => e.event === "requeued");
    assert.ok(requeue, JSON.stringify(rec.history));
    assert.match(String(requeue.reason), /restarted and its new process does not hold the job/);
    assert.equal(x.dispatcher.started.filter((s) => s.task.job_id === job.id).length, 2, "dispatched again");
    assert.equal(x.clock.now(), t0, "the clock never moved: not a lease expiry");
  });

  it("a store failure while re-queueing the old process's job is tried again at the next report, not left to the lease", async () => {
    const x = await h();
    const t0 = x.clock.now();
    await beat(x, "a", 1000);
    const job = await x.coord.submit({ type: "diag.echo" });
    await x.settle();
    await beat(x, "a", 2000); // restart seen
    const transition = x.store.transition.bind(x.store);
    let failures = 0;
    x.store.transition = async (id, ...rest) => {
      if (id === job.id && failures === 0) {
        failures++;
        throw new Error("store unreachable (test)");
      }
      return transition(id, ...rest);
    };
    await beat(x, "a", 2000); // the re-queue fails: the heartbeat is still answered
    await x.settle();
    assert.equal(failures, 1);
    assert.equal((await x.coord.get(job.id)).status, "running");
    await beat(x, "a", 2000);
    await x.settle();
    assert.equal(x.dispatcher.started.filter((s) => s.task.job_id === job.id).length, 2, "re-queued and dispatched again");
    assert.equal(x.clock.now(), t0, "the clock never moved: not a lease expiry");
  });

  it("keeps a job the new process lists (a dispatch that reached it), and the same process's reports change nothing", async () => {
    const x = await h();
    await beat(x, "a", 1000);
    const job = await x.coord.submit({ type: "diag.echo" });
    await x.settle();
    await beat(x, "a", 2000); // restart seen; the job is not listed in this report
    await beat(x, "a", 2000, [{ job_id: job.id, token: 1 }]); // ... but it is in the next: it reached the new process
    await beat(x, "a", 2000, [{ job_id: job.id, token: 1 }]);
    await x.settle();
    const rec = await x.coord.get(job.id);
    assert.equal(rec.status, "running");
    assert.equal(
      rec.history.some((e) => e.event === "requeued"),
      false,
    );
    assert.equal(x.dispatcher.started.filter((s) => s.task.job_id === job.id).length, 1);
  });

  it("does not touch a job granted to the node after the restart was seen", async () => {
    const x = await h();
    await beat(x, "a", 1000);
    await beat(x, "a", 2000); // restart seen, nothing held
    const job = await x.coord.submit({ type: "diag.echo" });
    await x.settle();
    await beat(x, "a", 2000); // its dispatch may still be on its way: not listed yet
    await x.settle();
    assert.equal((await x.coord.get(job.id)).status, "running");
  });
});
