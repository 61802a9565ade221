/**
 * A silent node is not a dead one (issue 17 items 6-7): nodeSuspect keeps its jobs leased
 * to it until the leases expire; a node that comes back renews them and finishes its work
 * once; a node that comes back after its jobs were re-queued is told to drop them.
 */
import assert from "node:assert/strict";
import { describe, it } from "vitest";
import { harnessPerFile } from "./coordinator-harness.ts";
import { report } from "./coordinator-fixtures.ts";

const h = harnessPerFile();

describe("Coordinator: silent nodes", () => {
  it("a node that goes silent and comes back within its lease keeps its job and completes it once (it was re-run elsewhere)", async () => {
    const x = await h();
    await x.heartbeat({ id: "a" });
    const job = await x.coord.submit({ type: "diag.echo" });
    await x.settle();
    await x.heartbeat({ id: "b" });
    x.coord.nodeSuspect("a", "missed heartbeats but still connected to NATS");
    await x.settle();
    x.clock.advance(5_000); // a 5 s stall on a 10 s lease
    await x.coord.sweep();
    await x.settle();
    assert.equal(x.dispatcher.started.filter((s) => s.task.job_id === job.id).length, 1, "not dispatched again while the lease holds");
    assert.equal(
      x.coord.nodes().some((n) => n.node_id === "a"),
      false,
      "no new work for a silent node",
    );
    // Back: its heartbeat renews the lease; nothing is stale.
    const answer = await x.coord.nodeHeartbeat({ ...report({ id: "a" }), leases: [{ job_id: job.id, token: 1 }] });
    assert.deepEqual(answer.stale, []);
    x.clock.advance(8_000); // past the original expiry, within the renewed one
    await x.coord.sweep();
    await x.coord.reportCompleted({ node_id: "a", job_id: job.id, token: 1, result: { from: "a" } });
    const done = await x.coord.get(job.id);
    assert.equal(done.status, "completed");
    assert.equal(done.attempts, 1);
    assert.equal(done.history.filter((e) => e.event === "dispatched").length, 1);
    assert.equal(
      done.history.some((e) => e.event === "requeued"),
      false,
    );
  });

  it("a silent node's slots stay counted: it is not over-booked when it returns", async () => {
    const x = await h();
    await x.heartbeat({ id: "a", max: 1 });
    const first = await x.coord.submit({ type: "diag.echo" });
    await x.settle();
    x.coord.nodeSuspect("a");
    await x.heartbeat({ id: "a", max: 1 }, [{ job_id: first.id, token: 1 }]);
    const second = await x.coord.submit({ type: "diag.echo" });
    await x.settle();
    assert.equal((await x.coord.get(second.id)).status, "pending", "the one slot is still taken by the first job");
  });

  it("a node silent past its lease finds its job re-queued, and its heartbeat answer tells it to drop that work", async () => {
    const x = await h();
    await x.heartbeat({ id: "a" });
    const job = await x.coord.submit({ type: "diag.echo" });
    await x.settle();
    await x.heartbeat({ id: "b" });
    x.coord.nodeSuspect("a");
    x.clock.advance(10_001);
    await x.coord.sweep();
    await x.settle();
    assert.equal(x.dispatcher.last(job.id).node, "b");
    const answer = await x.coord.nodeHeartbeat({ ...report({ id: "a" }), leases: [{ job_id: job.id, token: 1 }] });
    assert.deepEqual(answer.stale, [{ job_id: job.id, token: 1 }]);
  });
});
