/** Coordinator failure paths: lost nodes, leases, retries, blocklist, dispatch refusal, restart. */
import assert from "node:assert/strict";
import { describe, it } from "vitest";
import { FarmError } from "../../core/errors.ts";
import { harnessPerFile } from "./coordinator-harness.ts";

const h = harnessPerFile();

const stale = (e: unknown) => {
  assert.ok(e instanceof FarmError);
  assert.equal(e.code, "STALE_LEASE");
  return true;
};

/**
 * Nodes a and b of one slot each, one job on each; then a is lost (its job re-queued, b still
 * busy) and comes back (same node id, a new process) listing nothing.
 */
async function lostWhileSurvivorBusy(x: Awaited<ReturnType<typeof h>>, why: string): Promise<{ onA: string; onB: string }> {
  await x.heartbeat({ id: "a", max: 1 });
  await x.heartbeat({ id: "b", max: 1 });
  const j1 = await x.coord.submit({ type: "diag.echo" });
  const j2 = await x.coord.submit({ type: "diag.echo" });
  await x.settle();
  const [onA, onB] = x.dispatcher.last(j1.id).node === "a" ? [j1.id, j2.id] : [j2.id, j1.id];
  assert.equal(x.dispatcher.last(onB).node, "b");
  await x.coord.nodeLost("a", why);
  await x.settle();
  assert.equal((await x.coord.get(onA)).status, "pending");
  return { onA, onB };
}

describe("Coordinator failure handling", () => {
  it("re-queues a lost node's job, completes it on another node exactly once, and rejects the old lease", async () => {
    const x = await h();
    await x.heartbeat({ id: "a" });
    const job = await x.coord.submit({ type: "diag.echo" });
    await x.settle();
    assert.equal(x.dispatcher.last(job.id).node, "a");
    await x.heartbeat({ id: "b" });
    await x.coord.nodeLost("a", "no heartbeat for 3 s");
    await x.settle();
    const second = x.dispatcher.last(job.id);
    assert.equal(second.node, "b");
    assert.equal(second.task.token, 2);
    assert.equal(second.task.attempt, 2);
    // The lost node comes back to life and reports with its old token: ignored.
    await assert.rejects(x.coord.reportProgress({ node_id: "a", job_id: job.id, token: 1, progress: 50 }), stale);
    await assert.rejects(x.coord.reportCompleted({ node_id: "a", job_id: job.id, token: 1, result: { from: "a" } }), stale);
    await x.coord.reportCompleted({ node_id: "b", job_id: job.id, token: 2, result: { from: "b" } });
    const done = await x.coord.get(job.id);
    assert.equal(done.status, "completed");
    assert.deepEqual(done.result, { from: "b" });
    assert.deepEqual(done.failed_on, ["a"]);
    assert.ok(done.history.some((e) => e.event === "requeued" && e.reason === "node a was lost (no heartbeat for 3 s) (attempt 1/3); re-queued"));
    assert.equal(x.events.filter((e) => e.type === "completed").length, 1);
  });

  it("a lost node's job waits failed_node_wait_ms for a busy survivor, then runs on the lost node's restarted agent", async () => {
    const x = await h({ config: { failed_node_wait_ms: 1_500 } });
    const { onA, onB } = await lostWhileSurvivorBusy(x, "its NATS connection closed");
    assert.equal((await x.coord.get(onA)).avoid_until, x.clock.now() + 1_500);
    // Agent a comes back (a new process, same node id) while b is still busy: the job waits for b...
    await x.heartbeat({ id: "a", max: 1 }, []);
    assert.equal((await x.coord.get(onA)).status, "pending");
    assert.match((await x.coord.why(onA)).current?.summary ?? "", /waiting for a node it has not failed on/);
    // ...for at most 1.5 s: the next heartbeat after that places it on a.
    x.clock.advance(1_500);
    await x.heartbeat({ id: "b", max: 1 }, [{ job_id: onB, token: 1 }]);
    const again = x.dispatcher.last(onA);
    assert.equal(again.node, "a");
    assert.equal(again.task.attempt, 2);
    assert.equal((await x.coord.get(onA)).status, "running");
  });

  it("the wait ends on time without any heartbeat: a timer at avoid_until runs a dispatch round", async () => {
    const x = await h({ config: { failed_node_wait_ms: 80 } });
    const { onA } = await lostWhileSurvivorBusy(x, "its NATS connection closed");
    await x.heartbeat({ id: "a", max: 1 }, []); // back, but b is busy: the job waits
    assert.equal((await x.coord.get(onA)).status, "pending");
    x.clock.advance(80); // the coordinator's clock passes avoid_until; nothing else happens
    // The timer fires 80 ms after the wait began; 30 s of room for a loaded machine (only a failing run waits that long).
    for (const t0 = Date.now(); Date.now() - t0 < 30_000 && (await x.coord.get(onA)).status === "pending";) await new Promise((r) => setTimeout(r, 20));
    assert.equal((await x.coord.get(onA)).status, "running");
    assert.deepEqual(
      x.dispatcher.started.filter((s) => s.task.job_id === onA).map((s) => `${s.node}#${s.task.attempt}`),
      ["a#1", "a#2"],
    );
  });

  it("without failed_node_wait_ms a lost node's job waits for a node it has not failed on for as long as one is busy", async () => {
    const x = await h();
    const { onA, onB } = await lostWhileSurvivorBusy(x, "no heartbeat for 3 s");
    assert.equal((await x.coord.get(onA)).avoid_until, undefined);
    await x.heartbeat({ id: "a", max: 1 }, []);
    x.clock.advance(600_000);
    await x.heartbeat({ id: "b", max: 1 }, [{ job_id: onB, token: 1 }]);
    await x.heartbeat({ id: "a", max: 1 }, []);
    assert.equal((await x.coord.get(onA)).status, "pending");
  });

  it("keeps a lease alive while heartbeats list it, and re-queues the job once they stop", async () => {
    const x = await h();
    await x.heartbeat({ id: "a" });
    const job = await x.coord.submit({ type: "diag.echo" });
    await x.settle();
    for (let i = 0; i < 5; i++) {
      x.clock.advance(6_000);
      await x.heartbeat({ id: "a" }, [{ job_id: job.id, token: 1 }]);
      await x.coord.sweep();
    }
    assert.equal((await x.coord.get(job.id)).status, "running", "30 s on a 10 s lease, renewed by heartbeats");
    x.clock.advance(10_001);
    await x.coord.sweep();
    await x.settle();
    const j = await x.coord.get(job.id);
    assert.equal(x.dispatcher.last(job.id).task.token, 2, "re-dispatched (only node a left, so there again)");
    assert.ok(j.history.some((e) => e.event === "requeued" && e.reason?.startsWith("lease expired on node a")));
  });

  it("fails a job with a readable reason once its attempts are used up", async () => {
    const x = await h({ config: { max_attempts: 2, blocklist_threshold: 10 } });
    await x.heartbeat({ id: "a" });
    const job = await x.coord.submit({ type: "diag.echo" });
    await x.settle();
    x.clock.advance(10_001);
    await x.coord.sweep();
    await x.settle();
    x.clock.advance(10_001);
    await x.coord.sweep();
    const j = await x.coord.get(job.id);
    assert.equal(j.status, "failed");
    assert.equal(j.attempts, 2);
    assert.deepEqual(j.error, { code: "TIMEOUT", message: "lease expired on node a after 2 attempts" });
    const err = x.events.find((e) => e.type === "error" && e.job_id === job.id);
    assert.deepEqual(err && err.type === "error" ? err.error.message : null, "lease expired on node a after 2 attempts");
  });

  it("retries a retryable failure elsewhere and fails a non-retryable one at once", async () => {
    const x = await h({ config: { blocklist_threshold: 10 } });
    await x.heartbeat({ id: "a" });
    await x.heartbeat({ id: "b" });
    const job = await x.coord.submit({ type: "diag.echo" });
    await x.settle();
    const first = x.dispatcher.last(job.id);
    await x.coord.reportFailed({ node_id: first.node, job_id: job.id, token: 1, error: { code: "GPU_ERROR", message: "CUDA out of memory" }, retryable: true });
    await x.settle();
    const second = x.dispatcher.last(job.id);
    assert.notEqual(second.node, first.node, "avoids the node it failed on");
    assert.deepEqual((await x.coord.get(job.id)).failed_on, [first.node]);
    await x.coord.reportFailed({
      node_id: second.node,
      job_id: job.id,
      token: 2,
      error: { code: "VALIDATION_ERROR", message: "prompt is required", details: { field: "prompt" } },
      retryable: false,
    });
    const j = await x.coord.get(job.id);
    assert.equal(j.status, "failed");
    assert.deepEqual(j.error, { code: "VALIDATION_ERROR", message: "prompt is required", details: { field: "prompt" } });
  });

  it("blocklists a node for a job type after repeated failures, and says so", async () => {
    const x = await h({ config: { blocklist_threshold: 2, max_attempts: 5 } });
    await x.heartbeat({ id: "bad", types: ["diag.echo", "diag.sleep"] });
    await x.heartbeat({ id: "good", types: ["diag.echo"], max: 1 });
    const hog = await x.coord.submit({ type: "diag.echo" });
    await x.settle();
    const hogNode = x.dispatcher.last(hog.id).node;
    assert.equal(hogNode, "bad", "ties go by node id");
    await x.coord.reportCompleted({ node_id: "bad", job_id: hog.id, token: 1, result: {} });
    for (let i = 0; i < 2; i++) {
      const j = await x.coord.submit({ type: "diag.echo" });
      await x.settle();
      const t = x.dispatcher.last(j.id);
      assert.equal(t.node, "bad");
      await x.coord.reportFailed({ node_id: "bad", job_id: j.id, token: t.task.token, error: { code: "GPU_ERROR", message: "Xid 79" }, retryable: false });
    }
    const bad = x.coord.nodes().find((n) => n.node_id === "bad")!;
    assert.deepEqual(bad.blocklisted, { "diag.echo": "failed 2 'diag.echo' jobs (last: GPU_ERROR: Xid 79)" });
    const next = await x.coord.submit({ type: "diag.echo" });
    await x.settle();
    assert.equal(x.dispatcher.last(next.id).node, "good");
    const w = await x.coord.why(next.id);
    assert.equal(w.decision?.reasons.bad, "blocklisted for 'diag.echo': failed 2 'diag.echo' jobs (last: GPU_ERROR: Xid 79)");
    await x.coord.unblock("bad");
    assert.deepEqual(x.coord.nodes().find((n) => n.node_id === "bad")!.blocklisted, {});
  });

  it("a job granted at submit whose store write fails is refused to the caller, stopped on the agent and frees its slot", async () => {
    const x = await h();
    await x.heartbeat({ id: "a", max: 1 });
    const realCreate = x.store.create.bind(x.store);
    x.store.create = async () => {
      throw new Error("disk full");
    };
    await assert.rejects(x.coord.submit({ type: "diag.echo" }), /disk full/);
    const sent = x.dispatcher.started.at(-1)!;
    assert.deepEqual(x.dispatcher.cancelled, [{ node: "a", job: sent.task.job_id, token: 1 }], "the agent it was sent to is told to stop");
    await assert.rejects(x.coord.reportCompleted({ node_id: "a", job_id: sent.task.job_id, token: 1, result: {} }), stale);
    assert.deepEqual(x.coord.nodes()[0]!.running_jobs, [], "slot freed");
    x.store.create = realCreate;
    const ok = await x.coord.submit({ type: "diag.echo" });
    assert.equal(ok.status, "running", "the node takes the next job");
  });

  it("hands a job back when the agent refuses the dispatch, without spending an attempt", async () => {
    const x = await h();
    x.dispatcher.refuse.add("a");
    await x.heartbeat({ id: "a" });
    const job = await x.coord.submit({ type: "diag.echo" });
    await x.settle();
    let j = await x.coord.get(job.id);
    assert.equal(j.status, "pending");
    assert.equal(j.attempts, 0);
    assert.match(x.coord.nodes()[0]!.unavailable ?? "", /refused or unreachable at dispatch \(node a unreachable\)/);
    x.dispatcher.refuse.clear();
    await x.heartbeat({ id: "a" });
    j = await x.coord.get(job.id);
    assert.equal(j.status, "running");
    assert.equal(j.attempts, 1);
    assert.equal(x.dispatcher.last(job.id).task.token, 2, "a fresh token all the same");
  });

  it("recovers after a restart: queued jobs run, and running jobs keep their lease for the live agent", async () => {
    const first = await h();
    await first.heartbeat({ id: "a", max: 1 });
    const running = await first.coord.submit({ type: "diag.echo", params: { n: 1 } });
    const queued = await first.coord.submit({ type: "diag.echo", params: { n: 2 } });
    await first.settle();
    assert.equal(first.dispatcher.started.length, 1);
    await first.shutdown();

    const second = await h({ dir: first.dir, clock: first.clock });
    assert.deepEqual((await second.coord.status()).queue, { "diag.echo": 1 });
    assert.equal((await second.coord.status()).running[0]?.job_id, running.id);
    // The agent reconnects, still holding its lease, and reports the result with its token.
    await second.heartbeat({ id: "a", max: 1 }, [{ job_id: running.id, token: 1 }]);
    assert.equal(second.dispatcher.started.length, 0, "node is full with the recovered job");
    await second.coord.reportCompleted({ node_id: "a", job_id: running.id, token: 1, result: { ok: true } });
    await second.settle();
    assert.equal((await second.coord.get(running.id)).status, "completed");
    assert.equal(second.dispatcher.last(queued.id).node, "a");
    // The same submission after the restart is still recognised by its job.
    assert.equal((await second.coord.list({ status: "completed" })).total, 1);
  });

  it("re-queues a recovered running job whose agent never comes back", async () => {
    const first = await h();
    await first.heartbeat({ id: "gone" });
    const job = await first.coord.submit({ type: "diag.echo" });
    await first.settle();
    await first.shutdown();
    const second = await h({ dir: first.dir, clock: first.clock });
    await second.heartbeat({ id: "fresh" });
    second.clock.advance(10_001);
    await second.coord.sweep();
    await second.settle();
    assert.equal(second.dispatcher.last(job.id).node, "fresh");
    assert.equal(second.dispatcher.last(job.id).task.token, 2);
  });

  it("takes a job handed back by a draining agent without spending an attempt or blaming the node", async () => {
    const x = await h({ config: { blocklist_threshold: 1 } });
    await x.heartbeat({ id: "a" });
    const job = await x.coord.submit({ type: "diag.echo" });
    await x.settle();
    await x.heartbeat({ id: "a", draining: true });
    await x.heartbeat({ id: "b" });
    await x.coord.reportFailed({
      node_id: "a",
      job_id: job.id,
      token: 1,
      error: { code: "NODE_LOST", message: "agent draining: drain_timeout_ms reached" },
      retryable: true,
    });
    await x.settle();
    const t = x.dispatcher.last(job.id);
    assert.equal(t.node, "b");
    assert.equal(t.task.attempt, 1, "the handed-back attempt was given back");
    assert.deepEqual(x.coord.nodes().find((n) => n.node_id === "a")?.blocklisted, {});
  });

  it("purges finished jobs older than job_retention_h on the sweep, keeping unfinished ones", async () => {
    const x = await h({ config: { job_retention_h: 1 } });
    await x.heartbeat({ id: "a", max: 1 });
    const done = await x.coord.submit({ type: "diag.echo" });
    const open = await x.coord.submit({ type: "diag.echo" });
    await x.settle();
    await x.coord.reportCompleted({ node_id: "a", job_id: done.id, token: 1, result: {} });
    await x.settle();
    assert.equal((await x.coord.get(open.id)).status, "running");
    x.clock.advance(2 * 3_600_000);
    await x.coord.sweep();
    await assert.rejects(x.coord.get(done.id), (e: unknown) => e instanceof FarmError && e.code === "NOT_FOUND");
    const kept = await x.coord.get(open.id);
    assert.ok(kept.status === "pending" || kept.status === "running", `unfinished job kept (lease expired, re-queued), got ${kept.status}`);
  });
});
