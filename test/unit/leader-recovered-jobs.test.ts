/**
 * A leader killed just after granting jobs (issue 15: a leader killed 0.5 s after farm start
 * took 9.6 s to recover). Its grants were in the store, but some dispatches died with it, so
 * no agent ran those jobs; the new leader recovered them as running and held them until
 * their leases expired. Now an agent that has heard of the new leader's epoch lists what it
 * holds (running, or finished with its report on the way), and the new leader re-queues at
 * once the recovered jobs it does not list, and keeps those it does. Checked here by event
 * order on a manual clock that never moves (so nothing is a lease expiry), over one store
 * reopened by the next term.
 */
import assert from "node:assert/strict";
import { describe, it } from "vitest";
import { harnessPerFile } from "./coordinator-harness.ts";
import { report } from "./coordinator-fixtures.ts";
import type { Harness } from "./coordinator-harness.ts";

const h = harnessPerFile();
type Leases = { job_id: string; token: number }[];
const beat = (x: Harness, leases: Leases, leaderEpoch?: number) =>
  x.coord.nodeHeartbeat({ ...report({ id: "a" }), started_at: 1000, leases, ...(leaderEpoch !== undefined ? { leader_epoch: leaderEpoch } : {}) });

/** Term 1 grants two jobs to agent "a" and dies; term 2 (epoch 2) opens the same store. */
async function takeover(): Promise<{ next: Harness; ran: string; lost: string; t0: number }> {
  const first = await h({ leaderEpoch: 1 });
  await beat(first, [], 1);
  const ran = (await first.coord.submit({ type: "diag.echo" })).id;
  const lost = (await first.coord.submit({ type: "diag.echo" })).id;
  await first.settle();
  assert.equal(first.dispatcher.last(ran).node, "a");
  assert.equal(first.dispatcher.last(lost).node, "a");
  await first.shutdown();
  const next = await h({ dir: first.dir, leaderEpoch: 2 });
  return { next, ran, lost, t0: next.clock.now() };
}

describe("a new leader and the jobs it recovers", () => {
  it("re-queues at once a recovered job the agent, knowing the new epoch, does not hold; keeps the one it holds", async () => {
    const { next, ran, lost, t0 } = await takeover();
    assert.equal((await next.coord.get(lost)).status, "running");
    // The agent runs `ran` only: the dispatch of `lost` died with the old leader.
    const answer = await beat(next, [{ job_id: ran, token: 1 }], 2);
    assert.equal(answer.leader_epoch, 2, "the answer names the leader's epoch");
    await next.settle();
    const rec = await next.coord.get(lost);
    const requeue = rec.history.find((e) => e.event === "requeued");
    assert.ok(requeue, JSON.stringify(rec.history));
    assert.match(String(requeue.reason), /does not list the job in its first report to this leader/);
    assert.equal(rec.attempts, 1, "the attempt that never ran is given back, then spent by the new dispatch");
    assert.equal(next.dispatcher.last(lost).node, "a", "dispatched again by the new leader");
    const kept = await next.coord.get(ran);
    assert.equal(kept.status, "running");
    assert.equal(
      kept.history.some((e) => e.event === "requeued"),
      false,
    );
    assert.equal(
      next.dispatcher.started.some((s) => s.task.job_id === ran),
      false,
      "the job the agent holds is not sent again",
    );
    assert.equal(next.clock.now(), t0, "no time passed: not a lease expiry");
  });

  it("a store failure while re-queueing a recovered job leaves it to the node's next report, not to its lease expiry", async () => {
    const { next, ran, lost, t0 } = await takeover();
    const transition = next.store.transition.bind(next.store);
    let failures = 0;
    next.store.transition = async (id, ...rest) => {
      if (id === lost && failures === 0) {
        failures++;
        throw new Error("store unreachable (test)");
      }
      return transition(id, ...rest);
    };
    await beat(next, [{ job_id: ran, token: 1 }], 2);
    await next.settle();
    assert.equal(failures, 1);
    assert.equal((await next.coord.get(lost)).status, "running", "the failed write changed nothing");
    await beat(next, [{ job_id: ran, token: 1 }], 2);
    await next.settle();
    assert.equal(next.dispatcher.last(lost).node, "a", "re-queued and dispatched again at the next report");
    assert.equal(next.clock.now(), t0, "no time passed: not a lease expiry");
  });

  it("settles nothing on a report sent before the agent heard of the new epoch (a dispatch of the old leader may still arrive)", async () => {
    const { next, ran, lost } = await takeover();
    await beat(next, [{ job_id: ran, token: 1 }], 1);
    await beat(next, [{ job_id: ran, token: 1 }]);
    await next.settle();
    assert.equal((await next.coord.get(lost)).status, "running");
    assert.equal(next.dispatcher.started.length, 0);
    // Once it reports under epoch 2, the lost job goes back.
    await beat(next, [{ job_id: ran, token: 1 }], 2);
    await next.settle();
    assert.equal(next.dispatcher.last(lost).node, "a");
  });

  it("keeps a finished job whose report is still on its way (the agent lists it) and settles a node once", async () => {
    const { next, ran, lost } = await takeover();
    // Both listed: `lost` finished on the agent, its report retried to the new leader.
    await beat(
      next,
      [
        { job_id: ran, token: 1 },
        { job_id: lost, token: 1 },
      ],
      2,
    );
    // Later reports without them (they ended meanwhile) are the report path's business, not a loss.
    await beat(next, [], 2);
    await next.settle();
    for (const id of [ran, lost]) {
      const rec = await next.coord.get(id);
      assert.equal(rec.status, "running");
      assert.equal(
        rec.history.some((e) => e.event === "requeued"),
        false,
      );
    }
    assert.equal(next.dispatcher.started.length, 0);
  });
});

describe("a new leader after a gap longer than the lease", () => {
  it("does not expire a recovered lease before the agent could report: the job it still runs keeps running", async () => {
    const first = await h({ leaderEpoch: 1 });
    await beat(first, [], 1);
    const job = (await first.coord.submit({ type: "diag.echo" })).id;
    await first.settle();
    await first.shutdown();
    // No leader for longer than lease_ms (10 s here): the stored lease has lapsed.
    first.clock.advance(15_000);
    const next = await h({ dir: first.dir, leaderEpoch: 2, clock: first.clock });
    await next.coord.sweep();
    await next.settle();
    assert.equal((await next.coord.get(job)).status, "running", "not re-queued by the first sweep");
    await beat(next, [{ job_id: job, token: 1 }], 2);
    next.clock.advance(9_000);
    await next.coord.sweep();
    await next.settle();
    const rec = await next.coord.get(job);
    assert.equal(rec.status, "running");
    assert.equal(
      rec.history.some((e) => e.event === "requeued"),
      false,
    );
    assert.equal(next.dispatcher.started.length, 0);
  });
});
