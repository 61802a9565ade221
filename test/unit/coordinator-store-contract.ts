/**
 * The JobStore contract, as one suite every store implementation runs
 * (test/unit/coordinator-embedded-store.test.ts, test/integration/coordinator-redis-store.test.ts).
 */
import assert from "node:assert/strict";
import { describe, it } from "vitest";
import type { JobRecord } from "../../core/job.ts";
import type { JobStore } from "../../coordinator/job-store.ts";

export interface StoreHarness {
  /** A fresh, empty store. */
  open(): Promise<JobStore>;
  /** Close `store` and open it again over the same data (durability). */
  reopen(store: JobStore): Promise<JobStore>;
}

let n = 0;
export function makeJob(over: Partial<JobRecord> = {}): JobRecord {
  n++;
  return {
    id: `job-${n}-${Math.random().toString(36).slice(2, 8)}`,
    type: "diag.echo",
    params: { text: "hi", list: [], nested: { empty: [] } },
    priority: 0,
    status: "pending",
    progress: 0,
    created_at: 1_700_000_000_000 + n,
    updated_at: 1_700_000_000_000 + n,
    attempts: 0,
    max_attempts: 3,
    requirements: {},
    history: [{ at: 1_700_000_000_000, event: "submitted" }],
    ...over,
  };
}

export function runJobStoreContract(name: string, h: StoreHarness): void {
  describe(`JobStore contract: ${name}`, () => {
    const withStore = (fn: (s: JobStore) => Promise<void>) => async () => {
      const s = await h.open();
      try {
        await fn(s);
      } finally {
        await s.close();
      }
    };

    it(
      "creates and reads back a job exactly as given (empty arrays stay arrays)",
      withStore(async (s) => {
        const job = makeJob({ owner: "alice" });
        const r = await s.create(job);
        assert.equal(r.created, true);
        assert.deepEqual(r.job, job);
        assert.deepEqual(await s.get(job.id), job);
        assert.equal(await s.get("nope"), null);
      }),
    );

    it(
      "returns the existing job for a repeated idempotency key and stores nothing",
      withStore(async (s) => {
        const a = makeJob({ idempotency_key: "k1" });
        await s.create(a);
        const b = makeJob({ idempotency_key: "k1", params: { other: true } });
        const r = await s.create(b);
        assert.equal(r.created, false);
        assert.equal(r.job.id, a.id);
        assert.equal(await s.get(b.id), null);
        assert.equal((await s.findByIdempotencyKey("k1"))?.id, a.id);
        assert.equal(await s.findByIdempotencyKey("k2"), null);
      }),
    );

    it(
      "lists newest first with status/type filters, pagination and totals",
      withStore(async (s) => {
        const jobs = [makeJob({ type: "a" }), makeJob({ type: "b" }), makeJob({ type: "a" }), makeJob({ type: "a" })];
        for (const j of jobs) await s.create(j);
        await s.transition(jobs[2]!.id, ["pending"], { status: "cancelled" });
        const all = await s.list({ limit: 10, offset: 0 });
        assert.equal(all.total, 4);
        assert.deepEqual(
          all.jobs.map((j) => j.id),
          [jobs[3]!.id, jobs[2]!.id, jobs[1]!.id, jobs[0]!.id],
        );
        const page = await s.list({ limit: 2, offset: 1 });
        assert.deepEqual(
          page.jobs.map((j) => j.id),
          [jobs[2]!.id, jobs[1]!.id],
        );
        assert.equal(page.total, 4);
        const pa = await s.list({ status: "pending", type: "a", limit: 10, offset: 0 });
        assert.deepEqual(
          pa.jobs.map((j) => j.id),
          [jobs[3]!.id, jobs[0]!.id],
        );
        assert.equal(pa.total, 2);
        const cancelled = await s.list({ status: "cancelled", limit: 10, offset: 0 });
        assert.deepEqual(
          cancelled.jobs.map((j) => j.id),
          [jobs[2]!.id],
        );
        const typeB = await s.list({ type: "b", limit: 10, offset: 0 });
        assert.equal(typeB.total, 1);
      }),
    );

    it(
      "lists by owner: exact owner only, combined with status/type, with totals and pages",
      withStore(async (s) => {
        const a1 = makeJob({ owner: "alice", type: "a" });
        const b1 = makeJob({ owner: "bob", type: "a" });
        const a2 = makeJob({ owner: "alice", type: "b" });
        const anon = makeJob({ type: "a" });
        const a3 = makeJob({ owner: "alice", type: "a" });
        const a4 = makeJob({ owner: "alice", type: "a" });
        const aliceLike = makeJob({ owner: "alice2", type: "a" });
        for (const j of [a1, b1, a2, anon, a3, a4, aliceLike]) await s.create(j);
        await s.transition(a3.id, ["pending"], { status: "cancelled" });
        await s.transition(b1.id, ["pending"], { status: "cancelled" });
        const ids = (p: { jobs: JobRecord[] }) => p.jobs.map((j) => j.id);

        const alice = await s.list({ owner: "alice", limit: 10, offset: 0 });
        assert.deepEqual(ids(alice), [a4.id, a3.id, a2.id, a1.id], "only alice's jobs, newest first");
        assert.equal(alice.total, 4);
        const page = await s.list({ owner: "alice", limit: 2, offset: 1 });
        assert.deepEqual(ids(page), [a3.id, a2.id]);
        assert.equal(page.total, 4, "total counts all matches, not the page");
        const past = await s.list({ owner: "alice", limit: 5, offset: 4 });
        assert.deepEqual(ids(past), []);
        assert.equal(past.total, 4);

        const alicePending = await s.list({ owner: "alice", status: "pending", limit: 10, offset: 0 });
        assert.deepEqual(ids(alicePending), [a4.id, a2.id, a1.id]);
        assert.equal(alicePending.total, 3);
        const aliceTypeA = await s.list({ owner: "alice", type: "a", limit: 1, offset: 1 });
        assert.deepEqual(ids(aliceTypeA), [a3.id]);
        assert.equal(aliceTypeA.total, 3);
        const aliceBoth = await s.list({ owner: "alice", status: "pending", type: "a", limit: 10, offset: 0 });
        assert.deepEqual(ids(aliceBoth), [a4.id, a1.id]);
        assert.equal(aliceBoth.total, 2);
        const aliceCancelledB = await s.list({ owner: "alice", status: "cancelled", type: "b", limit: 10, offset: 0 });
        assert.deepEqual(ids(aliceCancelledB), []);
        assert.equal(aliceCancelledB.total, 0);

        const bob = await s.list({ owner: "bob", status: "cancelled", limit: 10, offset: 0 });
        assert.deepEqual(ids(bob), [b1.id]);
        assert.equal(bob.total, 1);
        assert.deepEqual(await s.list({ owner: "carol", limit: 10, offset: 0 }), { jobs: [], total: 0 });
        assert.deepEqual(await s.list({ owner: "carol", type: "a", limit: 10, offset: 0 }), { jobs: [], total: 0 });

        const unowned = await s.list({ owner: null, limit: 10, offset: 0 });
        assert.deepEqual(ids(unowned), [anon.id], "null lists the jobs without an owner");
        assert.equal(unowned.total, 1);
        assert.equal((await s.list({ owner: null, status: "pending", type: "a", limit: 10, offset: 0 })).total, 1);
        assert.equal((await s.list({ limit: 10, offset: 0 })).total, 7, "no owner filter: everything");
      }),
    );

    it("drops purged jobs from the owner listing and keeps the owner index across a reopen", async () => {
      let s = await h.open();
      const old = makeJob({ owner: "alice", created_at: 100 });
      const kept = makeJob({ owner: "alice", created_at: 5000 });
      const oldAnon = makeJob({ created_at: 101 });
      for (const j of [old, kept, oldAnon]) await s.create(j);
      await s.transition(old.id, ["pending"], { status: "completed" });
      await s.transition(oldAnon.id, ["pending"], { status: "failed" });
      assert.equal(await s.purge(1000), 2);
      const after = await s.list({ owner: "alice", limit: 10, offset: 0 });
      assert.deepEqual(
        after.jobs.map((j) => j.id),
        [kept.id],
      );
      assert.equal(after.total, 1);
      assert.equal((await s.list({ owner: "alice", status: "completed", limit: 10, offset: 0 })).total, 0);
      assert.equal((await s.list({ owner: null, limit: 10, offset: 0 })).total, 0);
      s = await h.reopen(s);
      try {
        const again = await s.list({ owner: "alice", status: "pending", limit: 10, offset: 0 });
        assert.deepEqual(
          again.jobs.map((j) => j.id),
          [kept.id],
        );
        assert.equal(again.total, 1);
      } finally {
        await s.close();
      }
    });

    it(
      "transition is a compare-and-set on status and lease token",
      withStore(async (s) => {
        const job = makeJob();
        await s.create(job);
        assert.equal(await s.transition(job.id, ["running"], { status: "completed" }), null, "wrong source status");
        assert.equal(await s.transition("missing", ["pending"], { status: "running" }), null);
        const running = await s.transition(
          job.id,
          ["pending"],
          { status: "running", node_id: "n1", started_at: 5 },
          {
            grantLease: { node_id: "n1", expires_at: 1000 },
            history: { at: 5, event: "dispatched", node_id: "n1" },
          },
        );
        assert.ok(running);
        assert.equal(running.status, "running");
        assert.deepEqual(running.lease, { node_id: "n1", token: 1, expires_at: 1000 });
        assert.equal(running.attempts, 1);
        assert.deepEqual(running.history.at(-1), { at: 5, event: "dispatched", node_id: "n1" });
        assert.equal(await s.transition(job.id, ["running"], { status: "completed" }, { leaseToken: 2 }), null, "stale token");
        const done = await s.transition(job.id, ["running"], { status: "completed", result: { ok: [] }, progress: 100 }, { leaseToken: 1, unset: ["lease"] });
        assert.ok(done);
        assert.equal(done.status, "completed");
        assert.equal(done.lease, undefined);
        assert.deepEqual(done.result, { ok: [] });
        assert.equal(done.node_id, "n1");
        assert.deepEqual(await s.get(job.id), done);
      }),
    );

    it("creates a job already running under its first lease (granted at submit); its next lease gets token 2", async () => {
      let s = await h.open();
      const job = makeJob({
        status: "running",
        node_id: "n1",
        started_at: 5,
        attempts: 1,
        lease: { node_id: "n1", token: 1, expires_at: 1000 },
        history: [
          { at: 5, event: "submitted" },
          { at: 5, event: "dispatched", node_id: "n1" },
        ],
      });
      assert.equal((await s.create(job)).created, true);
      assert.deepEqual(await s.get(job.id), job);
      assert.deepEqual(
        (await s.pending()).map((j) => j.id),
        [],
        "not queued",
      );
      assert.deepEqual(
        (await s.running()).map((j) => j.id),
        [job.id],
      );
      assert.equal((await s.list({ status: "running", limit: 10, offset: 0 })).total, 1);
      assert.equal(await s.transition(job.id, ["running"], { status: "pending" }, { leaseToken: 2 }), null, "stale token");
      const back = await s.transition(job.id, ["running"], { status: "pending" }, { leaseToken: 1, unset: ["lease", "node_id"] });
      assert.ok(back);
      const again = await s.transition(job.id, ["pending"], { status: "running", node_id: "n2" }, { grantLease: { node_id: "n2", expires_at: 2000 } });
      assert.equal(again?.lease?.token, 2);
      assert.equal(again?.attempts, 2);
      s = await h.reopen(s);
      try {
        assert.deepEqual(await s.get(job.id), again);
      } finally {
        await s.close();
      }
    });

    it(
      "lets exactly one of many concurrent transitions win",
      withStore(async (s) => {
        const job = makeJob();
        await s.create(job);
        const tries = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            s.transition(job.id, ["pending"], { status: "running", node_id: `n${i}` }, { grantLease: { node_id: `n${i}`, expires_at: 1 } }),
          ),
        );
        assert.equal(tries.filter((t) => t !== null).length, 1);
        assert.equal((await s.get(job.id))?.lease?.token, 1);
      }),
    );

    it(
      "issues a fresh fencing token after a re-queue removed the lease",
      withStore(async (s) => {
        const job = makeJob();
        await s.create(job);
        await s.transition(job.id, ["pending"], { status: "running", node_id: "n1" }, { grantLease: { node_id: "n1", expires_at: 1 } });
        const back = await s.transition(job.id, ["running"], { status: "pending", failed_on: ["n1"] }, { leaseToken: 1, unset: ["lease", "node_id"] });
        assert.ok(back);
        assert.equal(back.lease, undefined);
        assert.equal(back.node_id, undefined);
        assert.deepEqual(back.failed_on, ["n1"]);
        const again = await s.transition(job.id, ["pending"], { status: "running", node_id: "n2" }, { grantLease: { node_id: "n2", expires_at: 2 } });
        assert.equal(again?.lease?.token, 2);
        assert.equal(again?.attempts, 2);
      }),
    );

    it(
      "guards progress and lease renewal by the current token",
      withStore(async (s) => {
        const job = makeJob();
        await s.create(job);
        assert.equal(await s.updateProgress(job.id, 1, 10, "x", 7), false, "not running yet");
        await s.transition(job.id, ["pending"], { status: "running", node_id: "n1" }, { grantLease: { node_id: "n1", expires_at: 100 } });
        assert.equal(await s.updateProgress(job.id, 1, 42, "frame 4/10", 9), true);
        assert.equal(await s.updateProgress(job.id, 2, 50, undefined, 9), false);
        let j = await s.get(job.id);
        assert.equal(j?.progress, 42);
        assert.equal(j?.message, "frame 4/10");
        assert.equal(j?.updated_at, 9);
        assert.equal(await s.renewLease(job.id, 1, 500), true);
        assert.equal(await s.renewLease(job.id, 3, 900), false);
        j = await s.get(job.id);
        assert.deepEqual(j?.lease, { node_id: "n1", token: 1, expires_at: 500 });
      }),
    );

    it(
      "returns pending jobs by priority then age, and the running ones",
      withStore(async (s) => {
        const low = makeJob({ priority: -5, created_at: 1 });
        const oldNormal = makeJob({ priority: 0, created_at: 2 });
        const newNormal = makeJob({ priority: 0, created_at: 3 });
        const high = makeJob({ priority: 10, created_at: 4 });
        for (const j of [newNormal, low, high, oldNormal]) await s.create(j);
        assert.deepEqual(
          (await s.pending()).map((j) => j.id),
          [high.id, oldNormal.id, newNormal.id, low.id],
        );
        assert.deepEqual(
          (await s.pending(2)).map((j) => j.id),
          [high.id, oldNormal.id],
        );
        await s.transition(high.id, ["pending"], { status: "running", node_id: "n" }, { grantLease: { node_id: "n", expires_at: 1 } });
        assert.deepEqual(
          (await s.pending()).map((j) => j.id),
          [oldNormal.id, newNormal.id, low.id],
        );
        assert.deepEqual(
          (await s.running()).map((j) => j.id),
          [high.id],
        );
      }),
    );

    it(
      "counts jobs by type and status",
      withStore(async (s) => {
        const a1 = makeJob({ type: "a" });
        await s.create(a1);
        await s.create(makeJob({ type: "a" }));
        await s.create(makeJob({ type: "b" }));
        await s.transition(a1.id, ["pending"], { status: "failed" });
        const c = await s.counts();
        assert.equal(c.a?.pending, 1);
        assert.equal(c.a?.failed, 1);
        assert.equal(c.b?.pending, 1);
        assert.equal(c.b?.running ?? 0, 0);
      }),
    );

    it(
      "keeps per-node per-type failure counters and clears them",
      withStore(async (s) => {
        assert.equal(await s.recordNodeFailure("n1", "a", "GPU_ERROR: oom", 1), 1);
        assert.equal(await s.recordNodeFailure("n1", "a", "GPU_ERROR: oom again", 2), 2);
        assert.equal(await s.recordNodeFailure("n1", "b", "x", 3), 1);
        assert.equal(await s.recordNodeFailure("n2", "a", "y", 4), 1);
        const all = (await s.nodeFailures()).sort((x, y) => (x.node_id + x.type).localeCompare(y.node_id + y.type));
        assert.deepEqual(all[0], { node_id: "n1", type: "a", count: 2, last_reason: "GPU_ERROR: oom again", at: 2 });
        assert.equal(all.length, 3);
        await s.clearNodeFailures("n1", "a");
        assert.equal((await s.nodeFailures()).length, 2);
        await s.clearNodeFailures("n1");
        assert.deepEqual(
          (await s.nodeFailures()).map((f) => f.node_id),
          ["n2"],
        );
      }),
    );

    it(
      "saves and replaces the last placement decision of a job",
      withStore(async (s) => {
        assert.equal(await s.getDecision("j"), null);
        await s.saveDecision({ job_id: "j", at: 1, verdict: "wait", gpu_index: null, summary: "waiting", reasons: { n1: "busy: 2/2 jobs running" } });
        await s.saveDecision({
          job_id: "j",
          at: 2,
          verdict: "placed",
          node_id: "n1",
          gpu_index: 0,
          summary: "placed on n1 gpu0",
          reasons: { n1: "chosen gpu0" },
        });
        assert.deepEqual(await s.getDecision("j"), {
          job_id: "j",
          at: 2,
          verdict: "placed",
          node_id: "n1",
          gpu_index: 0,
          summary: "placed on n1 gpu0",
          reasons: { n1: "chosen gpu0" },
        });
      }),
    );

    it(
      "hands out snapshots: neither mutating a returned record nor the input reaches the store",
      withStore(async (s) => {
        const job = makeJob();
        const { job: got } = await s.create(job);
        const attempt = (fn: () => void) => {
          try {
            fn();
          } catch (err) {
            assert.ok(err instanceof TypeError, String(err));
          }
        };
        attempt(() => {
          got.params.text = "changed";
        });
        attempt(() => {
          got.history.push({ at: 0, event: "x" });
        });
        attempt(() => {
          job.params.text = "input changed";
        });
        const patch = { status: "running" as const, result: { nested: { v: 1 } } };
        const running = await s.transition(job.id, ["pending"], patch);
        patch.result.nested.v = 2; // the caller's object stays its own
        attempt(() => {
          (running!.result as { nested: { v: number } }).nested.v = 3;
        });
        const again = await s.get(job.id);
        assert.equal(again?.params.text, "hi");
        assert.equal(again?.history.length, 1);
        assert.deepEqual(again?.result, { nested: { v: 1 } });
        assert.equal(got.status, "pending", "an earlier snapshot does not change");
      }),
    );

    it(
      "purges old finished jobs only, with their idempotency keys and decisions",
      withStore(async (s) => {
        const oldDone = makeJob({ created_at: 100, idempotency_key: "old" });
        const oldPending = makeJob({ created_at: 101 });
        const newDone = makeJob({ created_at: 5000 });
        for (const j of [oldDone, oldPending, newDone]) await s.create(j);
        await s.transition(oldDone.id, ["pending"], { status: "cancelled" });
        await s.transition(newDone.id, ["pending"], { status: "failed" });
        await s.saveDecision({ job_id: oldDone.id, at: 1, verdict: "wait", gpu_index: null, summary: "s", reasons: {} });
        assert.equal(await s.purge(1000), 1);
        assert.equal(await s.get(oldDone.id), null);
        assert.equal(await s.findByIdempotencyKey("old"), null);
        assert.equal(await s.getDecision(oldDone.id), null);
        assert.ok(await s.get(oldPending.id), "pending jobs are never purged");
        assert.ok(await s.get(newDone.id));
        assert.equal((await s.list({ limit: 10, offset: 0 })).total, 2);
        assert.equal((await s.counts())["diag.echo"]?.cancelled ?? 0, 0);
        assert.equal((await s.create(makeJob({ idempotency_key: "old" }))).created, true, "the key is free again");
      }),
    );

    it("keeps everything across a close and reopen (jobs, tokens, counters, decisions)", async () => {
      let s = await h.open();
      const a = makeJob({ idempotency_key: "durable" });
      const b = makeJob({ priority: 3 });
      await s.create(a);
      await s.create(b);
      await s.transition(a.id, ["pending"], { status: "running", node_id: "n1" }, { grantLease: { node_id: "n1", expires_at: 10 } });
      await s.transition(a.id, ["running"], { status: "pending" }, { leaseToken: 1, unset: ["lease", "node_id"] });
      await s.recordNodeFailure("n1", "diag.echo", "boom", 5);
      await s.saveDecision({ job_id: b.id, at: 1, verdict: "wait", gpu_index: null, summary: "s", reasons: {} });
      const beforeA = await s.get(a.id);
      s = await h.reopen(s);
      try {
        assert.deepEqual(await s.get(a.id), beforeA);
        assert.equal((await s.findByIdempotencyKey("durable"))?.id, a.id);
        assert.deepEqual(
          (await s.pending()).map((j) => j.id),
          [b.id, a.id],
        );
        assert.equal((await s.nodeFailures())[0]?.count, 1);
        assert.equal((await s.getDecision(b.id))?.summary, "s");
        const again = await s.transition(a.id, ["pending"], { status: "running", node_id: "n2" }, { grantLease: { node_id: "n2", expires_at: 20 } });
        assert.equal(again?.lease?.token, 2, "token sequence survives the restart");
      } finally {
        await s.close();
      }
    });
  });
}
