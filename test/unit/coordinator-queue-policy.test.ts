/**
 * The queue-policy seam (issue 20 item 3): which job runs next is a dependency of the
 * Coordinator. The default keeps strict dispatch order; a policy can split the queue into
 * lanes (here: one per owner) and pick between lane heads from live counts of what each
 * owner runs, which is how fair share per API key plugs in.
 */
import assert from "node:assert/strict";
import { describe, it } from "vitest";
import { compareDispatch } from "../../coordinator/dispatch-order.ts";
import { PendingIndex } from "../../coordinator/pending-index.ts";
import { OwnerLoad, type QueuePolicyFor } from "../../coordinator/queue-policy.ts";
import { harnessPerFile, type Harness } from "./coordinator-harness.ts";

const h = harnessPerFile();

/** Fair share for the test: a lane per owner; the owner running fewer jobs goes first, then dispatch order. */
const fairShare: QueuePolicyFor = (view) => ({
  lane: (job) => job.owner ?? "",
  compare: (a, b) => view.running(a.owner) - view.running(b.owner) || compareDispatch(a, b),
});

/** One node with `slots` slots, so every completion frees exactly one place. */
async function farm(slots: number, queuePolicy?: QueuePolicyFor): Promise<Harness> {
  const x = await h(queuePolicy ? { queuePolicy } : {});
  await x.heartbeat({ id: "n1", max: slots });
  return x;
}

/**
 * On two slots, Alice submits three jobs, then Bob one; jobs complete in the order they
 * started. Returns the owners in the order their jobs started.
 */
async function runOrder(x: Harness): Promise<string[]> {
  const jobs = new Map<string, string>();
  for (const owner of ["alice", "alice", "alice", "bob"]) {
    const j = await x.coord.submit({ type: "diag.echo", owner });
    jobs.set(j.id, owner);
    x.clock.advance(1);
  }
  await x.settle();
  const order: string[] = [];
  for (let i = 0; i < jobs.size; i++) {
    const { task } = x.dispatcher.started[i]!;
    order.push(jobs.get(task.job_id)!);
    await x.coord.reportCompleted({ node_id: "n1", job_id: task.job_id, token: task.token, result: {} });
    await x.settle();
  }
  assert.equal(x.dispatcher.started.length, jobs.size, "every job ran exactly once");
  return order;
}

describe("queue policy", () => {
  it("keeps strict dispatch order without a policy: one owner's backlog runs before a later owner", async () => {
    assert.deepEqual(await runOrder(await farm(2)), ["alice", "alice", "alice", "bob"]);
  });

  it("lets a fair-share policy run a second owner's job before the first owner's backlog", async () => {
    // Alice's first two jobs took both slots at submit. When one ends Alice still runs one
    // and Bob none, so Bob's head goes before Alice's older third job.
    assert.deepEqual(await runOrder(await farm(2, fairShare)), ["alice", "alice", "bob", "alice"]);
  });

  it("counts a slot for its owner from the grant until the job ends (the view a policy consults)", async () => {
    let view: OwnerLoad | undefined;
    const x = await farm(1, (v) => {
      view = v as OwnerLoad;
      return fairShare(v);
    });
    const a = await x.coord.submit({ type: "diag.echo", owner: "alice" });
    await x.coord.submit({ type: "diag.echo" });
    await x.settle();
    assert.equal(view!.running("alice"), 1);
    assert.equal(view!.running(undefined), 0, "the unowned job waits");
    await x.coord.reportFailed({ node_id: "n1", job_id: a.id, token: 1, error: { code: "MODEL_ERROR", message: "boom" }, retryable: false });
    await x.settle();
    assert.equal(view!.running("alice"), 0);
    assert.equal(view!.running(undefined), 1, "the unowned job took the freed slot");
  });

  it("carries the owner in queue entries and serves each lane in dispatch order", () => {
    const load = new OwnerLoad();
    const idx = new PendingIndex(fairShare(load));
    const req = {};
    idx.add({ id: "a-low", type: "t", priority: 0, created_at: 1, requirements: req, owner: "alice" });
    idx.add({ id: "a-high", type: "t", priority: 5, created_at: 2, requirements: req, owner: "alice" });
    idx.add({ id: "b-1", type: "t", priority: 0, created_at: 3, requirements: req, owner: "bob" });
    load.add("alice");
    const first = idx.next(new Set());
    assert.equal(first?.job.id, "b-1", "bob runs nothing, alice one: bob's head first");
    assert.equal(first?.job.owner, "bob");
    idx.remove("b-1");
    assert.equal(idx.next(new Set())?.job.id, "a-high", "within alice's lane: higher priority first");
  });
});
