/**
 * Head-of-line blocking inside a requirement class: a re-queued job that waits for a node it
 * has not failed on (its avoid window, failed_node_wait_ms) no longer holds back the fresh
 * jobs of its class behind it. A dispatch round looks past such a head, a bounded number of
 * times (MAX_PASSED_PER_ROUND), and tries the next job; the head keeps its place.
 */
import assert from "node:assert/strict";
import { describe, it } from "vitest";
import { MAX_PASSED_PER_ROUND } from "../../coordinator/dispatch-rounds.ts";
import { PendingIndex, type QueuedJob } from "../../coordinator/pending-index.ts";
import { schedule } from "../../coordinator/scheduler.ts";
import { view } from "./coordinator-fixtures.ts";
import { harnessPerFile, type Harness } from "./coordinator-harness.ts";

const h = harnessPerFile();
const WAIT_MS = 1_500;

/**
 * Nodes a and b with `slots` and 1 slots, every slot busy (b's job is `onB`); then a is lost
 * (its jobs re-queued, each avoiding a for WAIT_MS) and comes back (a new process) empty,
 * while b stays busy: the re-queued jobs wait for b, though a is free.
 */
async function waitingHeads(x: Harness, slots = 1, types?: string[]): Promise<{ heads: string[]; onB: string }> {
  await x.heartbeat({ id: "a", max: slots, ...(types ? { types } : {}) });
  await x.heartbeat({ id: "b", max: 1, ...(types ? { types } : {}) });
  const ids: string[] = [];
  for (let i = 0; i < slots + 1; i++) ids.push((await x.coord.submit({ type: "diag.echo" })).id);
  await x.settle();
  const onB = ids.find((id) => x.dispatcher.last(id).node === "b")!;
  assert.ok(onB, "one job runs on b");
  await x.coord.nodeLost("a", "its NATS connection closed");
  await x.settle();
  const heads = ids.filter((id) => id !== onB);
  for (const id of heads) assert.equal((await x.coord.get(id)).avoid_until, x.clock.now() + WAIT_MS);
  await x.heartbeat({ id: "a", max: slots, ...(types ? { types } : {}) }, []);
  for (const id of heads) assert.equal((await x.coord.get(id)).status, "pending", "waits for b, not a");
  return { heads, onB };
}

/** Each job id was sent to a node at most once since `from` (index into dispatcher.started). */
function sentOnce(x: Harness, from = 0): void {
  const ids = x.dispatcher.started.slice(from).map((s) => s.task.job_id);
  assert.equal(new Set(ids).size, ids.length, `a job dispatched twice: ${ids.join(", ")}`);
}

describe("a round looks past a head waiting in its avoid window", () => {
  it("runs a fresh job of the same class on the free node the head avoids; the head waits out its window, then runs", async () => {
    const x = await h({ config: { failed_node_wait_ms: WAIT_MS } });
    const { heads, onB } = await waitingHeads(x);
    const head = heads[0]!;
    assert.match((await x.coord.why(head)).current?.summary ?? "", /waiting for a node it has not failed on \(1 busy\)/);
    const sentBefore = x.dispatcher.started.length;
    const fresh = await x.coord.submit({ type: "diag.echo" });
    await x.settle();
    assert.equal(x.dispatcher.last(fresh.id).node, "a", "the fresh job runs now, on the node the head avoids");
    assert.equal((await x.coord.get(head)).status, "pending");
    // a frees again inside the window: the head still prefers b...
    await x.coord.reportCompleted({ node_id: "a", job_id: fresh.id, token: 1, result: {} });
    await x.settle();
    assert.equal((await x.coord.get(head)).status, "pending", "inside its window the head keeps waiting for b");
    // ...until its window ends: the next round places it on a.
    x.clock.advance(WAIT_MS);
    await x.heartbeat({ id: "b", max: 1 }, [{ job_id: onB, token: 1 }]);
    const run = x.dispatcher.last(head);
    assert.equal(run.node, "a");
    assert.equal(run.task.attempt, 2);
    assert.equal((await x.coord.get(head)).status, "running");
    sentOnce(x, sentBefore);
  });

  it("the head keeps its place: the first node it may use goes to it, not to the fresh jobs behind it", async () => {
    const x = await h({ config: { failed_node_wait_ms: WAIT_MS } });
    const { heads, onB } = await waitingHeads(x);
    const head = heads[0]!;
    const sentBefore = x.dispatcher.started.length;
    const f1 = await x.coord.submit({ type: "diag.echo" });
    x.clock.advance(1);
    const f2 = await x.coord.submit({ type: "diag.echo" });
    await x.settle();
    assert.equal(x.dispatcher.last(f1.id).node, "a");
    assert.equal((await x.coord.get(f2.id)).status, "pending", "a's one slot is taken");
    // b frees inside the head's window: b goes to the head (older, and b it has not failed on), not to f2.
    await x.coord.reportCompleted({ node_id: "b", job_id: onB, token: 1, result: {} });
    await x.settle();
    assert.equal(x.dispatcher.last(head).node, "b");
    assert.equal((await x.coord.get(f2.id)).status, "pending");
    await x.coord.reportCompleted({ node_id: "a", job_id: f1.id, token: 1, result: {} });
    await x.settle();
    assert.equal(x.dispatcher.last(f2.id).node, "a");
    sentOnce(x, sentBefore);
  });

  it("keeps priority order among the jobs that can run, across classes", async () => {
    const x = await h({ config: { failed_node_wait_ms: WAIT_MS } });
    const types = ["diag.echo", "diag.sleep"];
    await x.heartbeat({ id: "a", max: 1, types });
    await x.heartbeat({ id: "b", max: 1, types });
    const first = await x.coord.submit({ type: "diag.echo" });
    const onB = await x.coord.submit({ type: "diag.echo" });
    await x.settle();
    assert.equal(x.dispatcher.last(first.id).node, "a");
    assert.equal(x.dispatcher.last(onB.id).node, "b");
    await x.coord.nodeLost("a", "its NATS connection closed");
    await x.settle();
    // While a is gone, jobs queue behind the re-queued one (b is busy).
    const queued: Record<string, string> = {};
    for (const [name, type, priority] of [
      ["echo-0", "diag.echo", 0],
      ["sleep-0", "diag.sleep", 0],
      ["echo-5", "diag.echo", 5],
      ["sleep-3", "diag.sleep", 3],
    ] as const) {
      x.clock.advance(1);
      queued[(await x.coord.submit({ type, priority })).id] = name;
    }
    await x.settle();
    const sentBefore = x.dispatcher.started.length;
    await x.heartbeat({ id: "a", max: 1, types }, []); // back, inside the head's window
    // a's one slot, freed job by job: dispatch order among the runnable jobs, the head not among them.
    const order: string[] = [];
    for (let i = 0; i < 4; i++) {
      const s = x.dispatcher.started.at(-1)!;
      assert.equal(s.node, "a");
      order.push(queued[s.task.job_id]!);
      await x.coord.reportCompleted({ node_id: "a", job_id: s.task.job_id, token: s.task.token, result: {} });
      await x.settle();
    }
    assert.deepEqual(order, ["echo-5", "sleep-3", "echo-0", "sleep-0"]);
    assert.equal(x.dispatcher.started.length, sentBefore + 4, "the head did not run: its window has not ended and b is busy");
    assert.equal((await x.coord.get(first.id)).status, "pending");
    sentOnce(x, sentBefore);
  });

  it(`looks past at most ${MAX_PASSED_PER_ROUND} waiting heads in a round`, async () => {
    const x = await h({ config: { failed_node_wait_ms: WAIT_MS, max_attempts: 5 } });
    const { heads } = await waitingHeads(x, MAX_PASSED_PER_ROUND + 1);
    const fresh = await x.coord.submit({ type: "diag.echo" });
    await x.settle();
    assert.equal((await x.coord.get(fresh.id)).status, "pending", `behind ${heads.length} waiting heads the lane is skipped`);
    // One head fewer: the round looks past all of them and the fresh job runs on a.
    await x.coord.cancel(heads.at(-1)!);
    await x.heartbeat({ id: "a", max: MAX_PASSED_PER_ROUND + 1 }, []);
    assert.equal(x.dispatcher.last(fresh.id).node, "a");
    for (const id of heads.slice(0, -1)) assert.equal((await x.coord.get(id)).status, "pending");
    sentOnce(x, x.dispatcher.started.length - 1);
  });

  it("a waiting head that fits nowhere free is not looked past (jobs of its class wait for the same capacity)", async () => {
    const x = await h({ config: { failed_node_wait_ms: WAIT_MS } });
    const { heads } = await waitingHeads(x);
    const f1 = await x.coord.submit({ type: "diag.echo" });
    await x.settle();
    assert.equal(x.dispatcher.last(f1.id).node, "a");
    // Every node busy now: the head's wait is for capacity, and the next fresh job waits too.
    const f2 = await x.coord.submit({ type: "diag.echo" });
    await x.settle();
    assert.equal((await x.coord.get(f2.id)).status, "pending");
    assert.equal((await x.coord.get(heads[0]!)).status, "pending");
    assert.match((await x.coord.why(heads[0]!)).current?.summary ?? "", /waiting for capacity/);
  });
});

describe("the scheduler marks the wait a round may look past", () => {
  const job = { type: "diag.echo", requirements: {}, failed_on: ["a"], avoid_until: 1_000 };
  const free = view({ id: "a", max: 1 });
  const busy = view({ id: "b", max: 1 }, { running: 1 });

  it("avoiding: only a node the job failed on is free, inside its window", () => {
    const d = schedule(job, [free, busy], { now: 999 });
    assert.equal(d.verdict, "wait");
    assert.equal(d.avoiding, true);
    assert.equal(schedule(job, [free, busy], { now: 1_000 }).verdict, "placed", "after the window it runs there");
  });

  it("not avoiding: a wait for capacity, or a placement", () => {
    const d = schedule(job, [view({ id: "a", max: 1 }, { running: 1 }), busy], { now: 0 });
    assert.equal(d.verdict, "wait");
    assert.equal(d.avoiding, undefined);
    assert.equal(schedule({ ...job, failed_on: [] }, [free, busy], { now: 0 }).avoiding, undefined);
  });
});

describe("PendingIndex.passHead", () => {
  const job = (id: string, priority = 0, created_at = 0): QueuedJob => ({ id, type: "t", priority, created_at, requirements: {} });

  it("offers the job behind a set-aside head, and puts the head back in its place", () => {
    const p = new PendingIndex();
    p.add(job("h", 0, 1));
    p.add(job("n1", 0, 2));
    p.add(job("n2", 0, 3));
    const first = p.next(new Set())!;
    assert.equal(first.job.id, "h");
    assert.equal(p.passHead(first.key, "n1"), false, "only the lane's head can be set aside");
    assert.equal(p.passHead(first.key, "h"), true);
    assert.equal(p.next(new Set())!.job.id, "n1");
    p.remove("n1");
    p.restorePassed();
    assert.equal(p.next(new Set())!.job.id, "h", "the head is back first");
    assert.equal(p.size, 2);
    p.remove("h");
    assert.equal(p.next(new Set())!.job.id, "n2");
  });

  it("does not put back a head removed (cancelled) or re-queued while set aside", () => {
    const p = new PendingIndex();
    p.add(job("h"));
    p.add(job("g", 0, 5));
    const k = p.next(new Set())!.key;
    assert.equal(p.passHead(k, "h"), true);
    assert.equal(p.passHead(k, "g"), true);
    assert.equal(p.next(new Set()), undefined, "the lane is empty while both are set aside");
    p.remove("h");
    p.add(job("g", 0, 5)); // re-added: a new entry, the set-aside one is stale
    p.restorePassed();
    assert.equal(p.size, 1);
    assert.equal(p.next(new Set())!.job.id, "g");
    p.remove("g");
    assert.equal(p.next(new Set()), undefined, "g was queued once, not twice");
  });
});
