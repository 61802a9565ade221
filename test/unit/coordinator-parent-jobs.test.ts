/** Coordinator: parent jobs (batches): fan-out, n-of-N progress, prompt order, per-item failure, cancel cascade, restart recovery. */
import assert from "node:assert/strict";
import { describe, it } from "vitest";
import { FarmError } from "../../core/errors.ts";
import type { JobEvent } from "../../core/job.ts";
import { harness, harnessPerFile } from "./coordinator-harness.ts";

const h = harnessPerFile();

const NODE = { id: "a", types: ["diag.echo"], max: 2 };
const items = (n: number) => Array.from({ length: n }, (_, i) => ({ prompt: `p${i}` }));
const batch = (n: number, extra: Record<string, unknown> = {}) => ({
  type: "diag.batch",
  params: { n },
  children: { type: "diag.echo", items: items(n) },
  ...extra,
});

/** Complete or fail whatever is running now, by id. */
function runningIds(events: JobEvent[], done: Set<string>): string[] {
  const ids = new Set<string>();
  for (const e of events) if (e.type === "status" && e.status === "running") ids.add(e.job_id);
  return [...ids].filter((id) => !done.has(id));
}

describe("Coordinator parent jobs", () => {
  it("fans out one child per item, reports n of N, and completes with results in item order", async () => {
    const x = await h();
    await x.heartbeat(NODE);
    const parent = await x.coord.submit(batch(5, { owner: "alice", priority: 3 }));
    assert.equal(parent.status, "running");
    assert.equal(parent.node_id, undefined);
    await x.settle();
    const kids = await Promise.all([0, 1, 2, 3, 4].map((i) => x.coord.get(`${parent.id}-${i}`)));
    kids.forEach((k, i) => {
      assert.deepEqual(k.parent, { id: parent.id, index: i });
      assert.equal(k.owner, "alice");
      assert.equal(k.priority, 3);
      assert.deepEqual(k.params, { prompt: `p${i}` });
    });
    // Two slots: two children run, three wait.
    assert.equal(kids.filter((k) => k.status === "running").length, 2);
    // Finish in reverse of dispatch order to prove the result follows item order, not end order.
    const done = new Set<string>();
    while (done.size < 5) {
      const ids = runningIds(x.events, done).reverse();
      for (const id of ids) {
        const tok = (await x.coord.get(id)).lease!.token;
        await x.coord.reportCompleted({ node_id: "a", job_id: id, token: tok, result: { image_url: `/outputs/${id}.png` } });
        done.add(id);
      }
      await x.settle();
    }
    const p = await x.coord.get(parent.id);
    assert.equal(p.status, "completed");
    assert.equal(p.progress, 100);
    const r = p.result as { items: { index: number; prompt: string; job_id: string; status: string; image_url: string }[]; completed: number; failed: number };
    assert.deepEqual(
      r.items.map((it) => it.prompt),
      ["p0", "p1", "p2", "p3", "p4"],
    );
    assert.deepEqual(
      r.items.map((it) => it.image_url),
      [0, 1, 2, 3, 4].map((i) => `/outputs/${parent.id}-${i}.png`),
    );
    assert.equal(r.completed, 5);
    const prog = x.events.filter((e): e is Extract<JobEvent, { type: "progress" }> => e.type === "progress" && e.job_id === parent.id);
    // Endings during an in-flight progress write are folded into the next one: n only grows.
    const ns = prog.map((e) => Number(/^(\d) of 5 done$/.exec(String(e.message))?.[1]));
    assert.ok(ns.length >= 1 && ns.every((n, i) => n >= 1 && n <= 4 && (i === 0 || n > ns[i - 1]!)), JSON.stringify(prog.map((e) => e.message)));
    assert.equal(x.events.filter((e) => e.job_id === parent.id && e.type === "completed").length, 1);
  });

  it("reports a failed item in its place and still completes the parent; all failed -> failed", async () => {
    const x = await h();
    await x.heartbeat({ ...NODE, max: 4 });
    const parent = await x.coord.submit(batch(3));
    await x.settle();
    await x.coord.reportCompleted({ node_id: "a", job_id: `${parent.id}-0`, token: 1, result: { image_url: "/a.png" } });
    await x.coord.reportFailed({
      node_id: "a",
      job_id: `${parent.id}-1`,
      token: 1,
      error: { code: "EXTERNAL_API_ERROR", message: "content policy" },
      retryable: false,
    });
    await x.coord.reportCompleted({ node_id: "a", job_id: `${parent.id}-2`, token: 1, result: { image_url: "/c.png" } });
    await x.settle();
    const p = await x.coord.get(parent.id);
    assert.equal(p.status, "completed");
    const r = p.result as { items: { status: string; error?: { code: string; message: string } }[]; failed: number; completed: number };
    assert.deepEqual(
      r.items.map((i) => i.status),
      ["completed", "failed", "completed"],
    );
    assert.deepEqual(r.items[1]!.error, { code: "EXTERNAL_API_ERROR", message: "content policy" });
    assert.equal(p.message, "2 of 3 completed, 1 failed");

    const all = await x.coord.submit(batch(2));
    await x.settle();
    for (const i of [0, 1])
      await x.coord.reportFailed({ node_id: "a", job_id: `${all.id}-${i}`, token: 1, error: { code: "MODEL_ERROR", message: `bad ${i}` }, retryable: false });
    await x.settle();
    const q = await x.coord.get(all.id);
    assert.equal(q.status, "failed");
    assert.equal(q.error?.code, "JOB_FAILED");
    assert.match(q.error!.message, /all 2 items failed; item 0: MODEL_ERROR: bad 0/);
    assert.equal((q.result as { failed: number }).failed, 2);
  });

  it("cancelling the parent cancels its pending and running children, then the parent", async () => {
    const x = await h();
    await x.heartbeat({ ...NODE, max: 1 });
    const parent = await x.coord.submit(batch(3));
    await x.settle();
    await x.coord.reportCompleted({ node_id: "a", job_id: `${parent.id}-0`, token: 1, result: { image_url: "/a.png" } });
    await x.settle();
    const running = await x.coord.get(`${parent.id}-1`);
    assert.equal(running.status, "running");
    const c = await x.coord.cancel(parent.id);
    assert.equal(c.cancel_requested, true);
    assert.equal(c.status, "running"); // child 1 is still stopping
    assert.equal((await x.coord.get(`${parent.id}-2`)).status, "cancelled");
    assert.ok(
      x.dispatcher.cancelled.some((d) => d.job === `${parent.id}-1`),
      "the running child's node was told",
    );
    await x.coord.reportFailed({
      node_id: "a",
      job_id: `${parent.id}-1`,
      token: running.lease!.token,
      error: { code: "JOB_CANCELLED", message: "aborted" },
      retryable: false,
    });
    await x.settle();
    const p = await x.coord.get(parent.id);
    assert.equal(p.status, "cancelled");
    assert.equal(p.error?.code, "JOB_CANCELLED");
    assert.deepEqual(
      (p.result as { items: { status: string }[] }).items.map((i) => i.status),
      ["completed", "cancelled", "cancelled"],
    );
    await assert.rejects(x.coord.cancel(parent.id), (e: unknown) => e instanceof FarmError && e.code === "CONFLICT");
  });

  it("an impossible item answers 503 and stores nothing", async () => {
    const x = await h();
    await x.heartbeat(NODE);
    await assert.rejects(
      x.coord.submit({ type: "b", children: { type: "image.generate", items: [{ prompt: "x" }] } }),
      (e: unknown) => e instanceof FarmError && e.code === "CAPABILITY_UNAVAILABLE",
    );
    await assert.rejects(
      x.coord.submit({ type: "b", children: { type: "diag.echo", items: [] } }),
      (e: unknown) => e instanceof FarmError && e.code === "VALIDATION_ERROR" && e.details?.field === "children.items",
    );
    assert.equal((await x.coord.list()).total, 0);
  });

  it("a parent stored without its children (crash during creation) gets them on restart", async () => {
    const x = await harness();
    const now = x.clock.now();
    const parent = {
      id: "p-crash",
      type: "diag.batch",
      params: {},
      priority: 0,
      status: "running" as const,
      progress: 0,
      created_at: now,
      updated_at: now,
      started_at: now,
      attempts: 0,
      max_attempts: 1,
      requirements: {},
      history: [{ at: now, event: "submitted" }],
      children: { type: "diag.echo", items: items(2) },
    };
    await x.store.create(parent);
    await x.shutdown();
    const y = await h({ dir: x.dir });
    await y.heartbeat({ ...NODE, max: 4 });
    assert.deepEqual((await y.coord.get("p-crash-1")).params, { prompt: "p1" });
    for (const i of [0, 1]) await y.coord.reportCompleted({ node_id: "a", job_id: `p-crash-${i}`, token: 1, result: { n: i } });
    await y.settle();
    const p = await y.coord.get("p-crash");
    assert.equal(p.status, "completed");
    assert.deepEqual(
      (p.result as { items: { n: number }[] }).items.map((it) => it.n),
      [0, 1],
    );
  });

  it("a restarted coordinator picks the parent up: children ended meanwhile count, the rest finish it", async () => {
    const x = await harness();
    await x.heartbeat({ ...NODE, max: 4 });
    const parent = await x.coord.submit(batch(3));
    await x.settle();
    await x.coord.reportCompleted({ node_id: "a", job_id: `${parent.id}-0`, token: 1, result: { image_url: "/a.png" } });
    await x.settle();
    await x.shutdown();
    const y = await h({ dir: x.dir });
    await y.heartbeat(
      { ...NODE, max: 4 },
      [1, 2].map((i) => ({ job_id: `${parent.id}-${i}`, token: 1 })),
    );
    for (const i of [1, 2]) await y.coord.reportCompleted({ node_id: "a", job_id: `${parent.id}-${i}`, token: 1, result: { image_url: `/${i}.png` } });
    await y.settle();
    const p = await y.coord.get(parent.id);
    assert.equal(p.status, "completed");
    assert.deepEqual(
      (p.result as { items: { image_url: string }[] }).items.map((i) => i.image_url),
      ["/a.png", "/1.png", "/2.png"],
    );
  });
});
