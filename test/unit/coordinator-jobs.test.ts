/** Coordinator: submit, dispatch, completion, idempotency, validation, cancel, why. */
import assert from "node:assert/strict";
import { describe, it } from "vitest";
import { FarmError } from "../../core/errors.ts";
import { harnessPerFile } from "./coordinator-harness.ts";

const h = harnessPerFile();

const isFarm = (code: string, re?: RegExp) => (e: unknown) => {
  assert.ok(e instanceof FarmError, String(e));
  assert.equal(e.code, code);
  if (re) assert.match(e.message, re);
  return true;
};

const SDXL_NODE = { id: "gpu-a", types: ["image.generate"], models: { "image.generate": ["sdxl"] }, model_vram: { sdxl: 12288 }, gpus: [{ total: 24576 }] };

describe("Coordinator jobs", () => {
  it("dispatches a submitted job with a lease and completes it, publishing each step", async () => {
    const x = await h();
    await x.heartbeat({ id: "a" });
    const job = await x.coord.submit({ type: "diag.echo", params: { text: "hi" } });
    // A free node takes it at submit: created running in one store write.
    assert.equal(job.status, "running");
    assert.deepEqual(
      job.history.map((e) => e.event),
      ["submitted", "dispatched"],
    );
    await x.settle();
    const { node, task } = x.dispatcher.last(job.id);
    assert.equal(node, "a");
    assert.deepEqual(task, { job_id: job.id, type: "diag.echo", params: { text: "hi" }, gpu_index: null, attempt: 1, token: 1, lease_ms: 10_000 });
    const running = await x.coord.get(job.id);
    assert.equal(running.status, "running");
    assert.deepEqual(running.lease, { node_id: "a", token: 1, expires_at: x.clock.now() + 10_000 });
    await x.coord.reportProgress({ node_id: "a", job_id: job.id, token: 1, progress: 40, message: "halfway-ish" });
    await x.coord.reportCompleted({ node_id: "a", job_id: job.id, token: 1, result: { text: "hi" } });
    const done = await x.coord.get(job.id);
    assert.equal(done.status, "completed");
    assert.equal(done.progress, 100);
    assert.deepEqual(done.result, { text: "hi" });
    assert.deepEqual(
      x.events.filter((e) => e.job_id === job.id).map((e) => (e.type === "status" ? `status:${e.status}` : e.type)),
      ["status:running", "progress", "completed"],
    );
    assert.equal(done.message, "halfway-ish", "a completion without a message keeps the last progress message");
    // A duplicate completion is rejected: the job completes once.
    await assert.rejects(x.coord.reportCompleted({ node_id: "a", job_id: job.id, token: 1, result: {} }), isFarm("STALE_LEASE"));
  });

  it("a completion that carries the attempt's last progress message stores it (no progress call went before it)", async () => {
    const x = await h();
    await x.heartbeat({ id: "a" });
    const job = await x.coord.submit({ type: "diag.echo" });
    await x.settle();
    await x.coord.reportProgress({ node_id: "a", job_id: job.id, token: 1, progress: 40, message: "step 2/4" });
    await x.coord.reportCompleted({ node_id: "a", job_id: job.id, token: 1, result: { text: "hi" }, message: "step 4/4" });
    const done = await x.coord.get(job.id);
    assert.deepEqual([done.status, done.progress, done.message, done.result], ["completed", 100, "step 4/4", { text: "hi" }]);
  });

  it("returns the same job for a repeated idempotency key and runs it once", async () => {
    const x = await h();
    await x.heartbeat({ id: "a" });
    const a = await x.coord.submit({ type: "diag.echo", idempotency_key: "req-1" });
    const b = await x.coord.submit({ type: "diag.echo", idempotency_key: "req-1", params: { other: 1 } });
    assert.equal(b.id, a.id);
    await x.settle();
    assert.equal(x.dispatcher.started.length, 1);
    assert.equal((await x.coord.list()).total, 1);
  });

  it("lists a submitter's own jobs when asked for its owner, and the unowned ones for null", async () => {
    const x = await h();
    await x.heartbeat({ id: "a" });
    const mine = await x.coord.submit({ type: "diag.echo", owner: "alice" });
    await x.coord.submit({ type: "diag.echo", owner: "bob" });
    const anon = await x.coord.submit({ type: "diag.echo" });
    const alice = await x.coord.list({ owner: "alice" });
    assert.deepEqual(
      alice.jobs.map((j) => j.id),
      [mine.id],
    );
    assert.equal(alice.total, 1);
    assert.deepEqual(
      (await x.coord.list({ owner: null })).jobs.map((j) => j.id),
      [anon.id],
    );
    assert.equal((await x.coord.list({ owner: "x".repeat(200) })).total, 0, "200 characters is still a valid owner");
    assert.equal((await x.coord.list()).total, 3);
  });

  it("fails fast with CAPABILITY_UNAVAILABLE and stores nothing when no node could ever run the job", async () => {
    const x = await h();
    await x.heartbeat({ id: "cpu", types: ["diag.echo"] });
    await x.heartbeat(SDXL_NODE);
    await assert.rejects(x.coord.submit({ type: "video.generate" }), (e: unknown) => {
      assert.ok(e instanceof FarmError);
      assert.equal(e.code, "CAPABILITY_UNAVAILABLE");
      assert.equal(e.status, 503);
      assert.equal(e.message, "no live node offers job type 'video.generate'");
      assert.deepEqual(e.details?.reasons, { cpu: "does not offer job type 'video.generate'", "gpu-a": "does not offer job type 'video.generate'" });
      return true;
    });
    await assert.rejects(
      x.coord.submit({ type: "image.generate", params: { model: "flux-dev" } }),
      isFarm("CAPABILITY_UNAVAILABLE", /no live node offers model 'flux-dev' for job type 'image.generate'/),
    );
    assert.equal((await x.coord.list()).total, 0);
  });

  it("accepts a job type as soon as a node starts offering it, and refuses it again once it is gone", async () => {
    const x = await h();
    await x.heartbeat({ id: "a", types: ["diag.echo"] });
    await assert.rejects(x.coord.submit({ type: "diag.sleep" }), isFarm("CAPABILITY_UNAVAILABLE"));
    await x.heartbeat({ id: "a", types: ["diag.echo", "diag.sleep"] }); // plugin enabled on the same node
    assert.equal((await x.coord.submit({ type: "diag.sleep" })).status, "running");
    await x.coord.nodeLost("a");
    await assert.rejects(
      x.coord.submit({ type: "diag.sleep" }),
      isFarm("CAPABILITY_UNAVAILABLE", /no live node offers job type 'diag.sleep' \(no nodes connected\)/),
    );
  });

  it("derives the model and its VRAM from what nodes advertise and sends the job to a GPU", async () => {
    const x = await h();
    await x.heartbeat(SDXL_NODE);
    const job = await x.coord.submit({ type: "image.generate", params: { prompt: "a banana" } });
    assert.deepEqual(job.requirements, { model: "sdxl", vram_mb: 12288 });
    await x.settle();
    const { task } = x.dispatcher.last(job.id);
    assert.equal(task.model, "sdxl");
    assert.equal(task.gpu_index, 0);
  });

  it("rejects bad input with VALIDATION_ERROR naming the field", async () => {
    const x = await h();
    await x.heartbeat({ id: "a" });
    const field = (f: string) => (e: unknown) => {
      assert.ok(e instanceof FarmError);
      assert.equal(e.code, "VALIDATION_ERROR");
      assert.equal(e.details?.field, f);
      return true;
    };
    await assert.rejects(x.coord.submit({ type: "diag.echo", priority: 1.5 }), field("priority"));
    await assert.rejects(x.coord.submit({ type: "" }), field("type"));
    await assert.rejects(x.coord.submit({ type: "diag.echo", params: [] as unknown as Record<string, unknown> }), field("params"));
    await assert.rejects(x.coord.submit({ type: "diag.echo", params: { model: 5 } }), field("params.model"));
    await assert.rejects(x.coord.list({ status: "done" as never }), field("status"));
    await assert.rejects(x.coord.list({ limit: 0 }), field("limit"));
    await assert.rejects(x.coord.list({ owner: "" }), field("owner"));
    await assert.rejects(x.coord.list({ owner: "x".repeat(201) }), field("owner"));
    await assert.rejects(x.coord.list({ owner: 7 as unknown as string }), field("owner"));
    await assert.rejects(x.coord.get("nope"), isFarm("NOT_FOUND", /job 'nope' not found/));
    await assert.rejects(x.coord.reportCompleted({ node_id: "a", job_id: "j", token: -1, result: {} }), field("token"));
  });

  it("dispatches in priority order, then oldest first", async () => {
    const x = await h();
    const low = await x.coord.submit({ type: "diag.echo", priority: -1 }).catch(() => null);
    assert.equal(low, null, "no node yet: impossible");
    await x.heartbeat({ id: "a", max: 1, draining: true });
    const jobs = [
      await x.coord.submit({ type: "diag.echo", priority: 0 }),
      await x.coord.submit({ type: "diag.echo", priority: 5 }),
      await x.coord.submit({ type: "diag.echo", priority: 0 }),
    ];
    await x.settle();
    assert.equal(x.dispatcher.started.length, 0, "draining node takes nothing");
    assert.deepEqual((await x.coord.status()).queue, { "diag.echo": 3 });
    await x.heartbeat({ id: "a", max: 1 });
    const order: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { task } = x.dispatcher.started.at(-1)!;
      order.push(task.job_id);
      await x.coord.reportCompleted({ node_id: "a", job_id: task.job_id, token: task.token, result: {} });
      await x.settle();
    }
    assert.deepEqual(order, [jobs[1]!.id, jobs[0]!.id, jobs[2]!.id]);
  });

  it("a job submitted while others wait queues behind them, even when a slot is free at that moment", async () => {
    const x = await h();
    await x.heartbeat({ id: "a", max: 1 });
    const first = await x.coord.submit({ type: "diag.echo" });
    assert.equal(first.status, "running", "free node: granted at submit");
    const waiting = await x.coord.submit({ type: "diag.echo", priority: 5 });
    assert.equal(waiting.status, "pending", "node full: queued");
    await x.coord.reportCompleted({ node_id: "a", job_id: first.id, token: 1, result: {} });
    // The slot is free again, but `waiting` is still queued (its round has not run yet):
    // a new submit must not take the slot before it.
    const late = await x.coord.submit({ type: "diag.echo", priority: 9 });
    assert.equal(late.status, "pending");
    await x.settle();
    assert.equal(x.dispatcher.started.at(-1)!.task.job_id, late.id, "then the queue runs in priority order");
    assert.equal((await x.coord.get(waiting.id)).status, "pending");
  });

  it("one round grants many jobs without waiting for each store write, and never past a node's slots", async () => {
    const x = await h();
    await x.heartbeat({ id: "a", max: 3, draining: true });
    await x.heartbeat({ id: "b", max: 2, draining: true });
    const jobs = [];
    for (let i = 0; i < 10; i++) jobs.push(await x.coord.submit({ type: "diag.echo", params: { i } }));
    await x.heartbeat({ id: "a", max: 3 });
    await x.heartbeat({ id: "b", max: 2 });
    const perNode = (n: string) => x.dispatcher.started.filter((s) => s.node === n).length;
    assert.equal(perNode("a"), 3);
    assert.equal(perNode("b"), 2);
    assert.deepEqual(
      x.dispatcher.started.map((s) => s.task.job_id),
      jobs.slice(0, 5).map((j) => j.id),
      "oldest first",
    );
    for (const { task } of x.dispatcher.started) assert.equal((await x.coord.get(task.job_id)).status, "running");
    // One finishing frees one slot: exactly one more starts.
    const first = x.dispatcher.started[0]!;
    await x.coord.reportCompleted({ node_id: first.node, job_id: first.task.job_id, token: first.task.token, result: {} });
    await x.settle();
    assert.equal(x.dispatcher.started.length, 6);
    assert.equal(x.dispatcher.started[5]!.node, first.node);
  });

  it("cancels a pending job at once and a running one through the agent", async () => {
    const x = await h();
    await x.heartbeat({ id: "a", max: 1 });
    const first = await x.coord.submit({ type: "diag.echo" });
    const second = await x.coord.submit({ type: "diag.echo" });
    await x.settle();
    const pendingCancel = await x.coord.cancel(second.id);
    assert.equal(pendingCancel.status, "cancelled");
    assert.equal(pendingCancel.error?.code, "JOB_CANCELLED");
    const r = await x.coord.cancel(first.id);
    assert.equal(r.status, "running");
    assert.equal(r.cancel_requested, true);
    assert.deepEqual(x.dispatcher.cancelled, [{ node: "a", job: first.id, token: 1 }]);
    await x.coord.reportFailed({ node_id: "a", job_id: first.id, token: 1, error: { code: "JOB_CANCELLED", message: "aborted" }, retryable: false });
    const c = await x.coord.get(first.id);
    assert.equal(c.status, "cancelled");
    assert.deepEqual(
      x.events.filter((e) => e.job_id === first.id && e.type === "error").map((e) => e.type === "error" && e.status),
      ["cancelled"],
    );
    await assert.rejects(x.coord.cancel(first.id), isFarm("CONFLICT", /cannot go from cancelled to cancelled/));
    await x.settle();
    assert.equal(x.dispatcher.started.length, 1, "the cancelled pending job never ran");
  });

  it("finishes a cancel when the agent never answers: the lease expiry marks it cancelled", async () => {
    const x = await h();
    await x.heartbeat({ id: "a" });
    const job = await x.coord.submit({ type: "diag.echo" });
    await x.settle();
    await x.coord.cancel(job.id);
    x.clock.advance(10_001);
    await x.coord.sweep();
    const c = await x.coord.get(job.id);
    assert.equal(c.status, "cancelled");
    assert.match(c.error?.message ?? "", /cancelled by request \(lease expired on node a\)/);
  });

  it("explains placement with why(): per-node reasons for a waiting job and the decision once placed", async () => {
    const x = await h();
    await x.heartbeat({ ...SDXL_NODE, max: 1 });
    await x.heartbeat({ id: "cpu" });
    const a = await x.coord.submit({ type: "image.generate" });
    const b = await x.coord.submit({ type: "image.generate" });
    await x.settle();
    const wa = await x.coord.why(a.id);
    assert.equal(wa.decision?.verdict, "placed");
    assert.equal(wa.decision?.node_id, "gpu-a");
    assert.equal(wa.decision?.reasons.cpu, "does not offer job type 'image.generate'");
    const wb = await x.coord.why(b.id);
    assert.equal(wb.status, "pending");
    assert.equal(wb.decision?.verdict, "wait");
    assert.equal(wb.current?.reasons["gpu-a"], "busy: 1/1 jobs running");
    assert.deepEqual(
      wb.history.map((e) => e.event),
      ["submitted"],
    );
  });
});
