import { test } from "vitest";
import assert from "node:assert/strict";
import { makeAgent, task, processAlive } from "./agent-harness.ts";

test("runs diag.echo and reports completed with the task's token", async () => {
  const h = await makeAgent();
  try {
    const t = task("diag.echo", { hello: "world", n: [1, 2] });
    await h.agent.startTask(t);
    const out = await h.reporter.outcome(t.job_id);
    assert.deepEqual(out, { kind: "completed", job_id: t.job_id, token: t.token, result: { echo: { hello: "world", n: [1, 2] } } });
    assert.deepEqual(h.agent.report().running_jobs, []);
    // The first heartbeat advertised diag's capabilities.
    assert.deepEqual(h.reporter.heartbeats[0]!.job_types, ["diag.echo", "diag.fail", "diag.gpu", "diag.sleep"]);
    assert.equal(h.reporter.heartbeats[0]!.node_id, "node-test");
  } finally {
    await h.cleanup();
  }
});

test("diag.sleep reports 'step i/n' progress, then completion", async () => {
  const h = await makeAgent();
  try {
    const t = task("diag.sleep", { seconds: 0.9, steps: 3 });
    await h.agent.startTask(t);
    const out = await h.reporter.outcome(t.job_id);
    assert.equal(out.kind, "completed");
    assert.deepEqual(out.kind === "completed" && out.result, { slept_s: 0.9, steps: 3 });
    const progress = h.reporter.reports.filter((r) => r.job_id === t.job_id && r.kind === "progress");
    assert.deepEqual(
      progress.map((p) => p.kind === "progress" && [Math.round(p.progress), p.message, p.token]),
      [
        [33, "step 1/3", t.token],
        [67, "step 2/3", t.token],
        [100, "step 3/3", t.token],
      ],
    );
    assert.equal(h.reporter.reports.indexOf(out), h.reporter.reports.length - 1, "completion comes after the last progress");
  } finally {
    await h.cleanup();
  }
});

test("a running job holds a lease in heartbeats until its outcome is reported", async () => {
  const h = await makeAgent();
  try {
    // 3 s: the periodic heartbeat must come while the job runs (1 s left no room on a loaded machine).
    const t = task("diag.sleep", { seconds: 3, steps: 2 });
    await h.agent.startTask(t);
    assert.deepEqual(h.agent.leases(), [{ job_id: t.job_id, token: t.token }]);
    assert.deepEqual(h.agent.report().running_jobs, [t.job_id]);
    // The telemetry timer renews it (agent.telemetry_interval_ms is 100 ms here).
    const before = h.reporter.heartbeats.length;
    const renewed = () => h.reporter.heartbeats.slice(before).some((b) => b.leases.some((l) => l.job_id === t.job_id && l.token === t.token));
    for (const end = Date.now() + 30_000; !renewed() && Date.now() < end;) await new Promise((r) => setTimeout(r, 50));
    assert.ok(renewed(), "a periodic heartbeat carried the lease");
    await h.reporter.outcome(t.job_id);
    await new Promise((r) => setImmediate(r)); // the report call has returned
    assert.deepEqual(h.agent.leases(), []);
  } finally {
    await h.cleanup();
  }
});

test("a finished job whose report is not through yet (mesh down) keeps its lease in heartbeats (it expired and the job ran twice)", async () => {
  const h = await makeAgent();
  try {
    let deliver: () => void = () => {};
    const delivered = new Promise<void>((r) => (deliver = r));
    const send = h.reporter.completed.bind(h.reporter);
    // The mesh reporter retries until the coordinator answers: here it answers when we say.
    h.reporter.completed = async (r) => {
      await delivered;
      await send(r);
    };
    const t = task("diag.sleep", { seconds: 0.05, steps: 1 });
    await h.agent.startTask(t);
    for (const end = Date.now() + 30_000; h.agent.report().running_jobs.length > 0 && Date.now() < end;) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(h.agent.report().running_jobs, [], "the job itself has ended");
    assert.deepEqual(h.agent.leases(), [{ job_id: t.job_id, token: t.token }], "its lease is still renewed");
    deliver();
    await h.reporter.outcome(t.job_id);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(h.agent.leases(), []);
  } finally {
    await h.cleanup();
  }
});

test("cancel aborts a running job: reported failed JOB_CANCELLED, not retryable; stale tokens are ignored", async () => {
  const h = await makeAgent();
  try {
    const t = task("diag.sleep", { seconds: 60, steps: 60 });
    await h.agent.startTask(t);
    await h.agent.cancelTask(t.job_id, t.token - 1); // an older lease: ignored
    await h.agent.cancelTask("not-here", 1); // unknown: ignored
    assert.deepEqual(h.agent.report().running_jobs, [t.job_id]);
    await h.agent.cancelTask(t.job_id, t.token);
    const out = await h.reporter.outcome(t.job_id);
    assert.equal(out.kind, "failed");
    if (out.kind === "failed") {
      assert.equal(out.error.code, "JOB_CANCELLED");
      assert.equal(out.error.message, `job ${t.job_id} was cancelled`);
      assert.equal(out.retryable, false);
      assert.equal(out.token, t.token);
    }
  } finally {
    await h.cleanup();
  }
});

test("a child process ignoring SIGTERM is SIGKILLed after the grace period, then the job is reported cancelled", async () => {
  const pids: number[] = [];
  // 4 s of grace: the child is checked alive 200 ms after the cancel, and a loaded machine
  // must not let the grace run out first (1.5 s left 1.3 s of room).
  const h = await makeAgent({ childPids: pids, agent: { cancel_grace_ms: 4000 } });
  try {
    const t = task("diag.sleep", { seconds: 120, child: true });
    await h.agent.startTask(t);
    await h.reporter.waitFor((r) => r.job_id === t.job_id && r.kind === "progress" && r.message === "child ready");
    assert.equal(pids.length, 1);
    const pid = pids[0]!;
    assert.ok(processAlive(pid));
    await h.agent.cancelTask(t.job_id, t.token);
    // SIGTERM was sent and ignored: the child survives into the grace period.
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(processAlive(pid), "child ignores SIGTERM");
    assert.equal(
      h.reporter.reports.some((r) => r.job_id === t.job_id && r.kind !== "progress"),
      false,
      "not reported before the grace period ends",
    );
    const out = await h.reporter.outcome(t.job_id);
    assert.equal(out.kind === "failed" && out.error.code, "JOB_CANCELLED");
    assert.equal(out.kind === "failed" && out.retryable, false);
    // SIGKILLed (node reaps it right after; allow the exit to be collected).
    for (const end = Date.now() + 30_000; processAlive(pid) && Date.now() < end;) await new Promise((r) => setTimeout(r, 20));
    assert.equal(processAlive(pid), false, "child was killed");
  } finally {
    await h.cleanup();
  }
});

test("drain stops new work and hands back running jobs as retryable failures; undrain accepts again", async () => {
  const h = await makeAgent();
  try {
    const quick = task("diag.sleep", { seconds: 0.1, steps: 1 });
    const slow = task("diag.sleep", { seconds: 60 });
    await h.agent.startTask(quick);
    await h.agent.startTask(slow);
    const drained = await h.agent.drain(600);
    assert.deepEqual(drained, { finished: [quick.job_id], handed_back: [slow.job_id] });
    assert.equal((await h.reporter.outcome(quick.job_id)).kind, "completed");
    const out = await h.reporter.outcome(slow.job_id);
    assert.equal(out.kind, "failed");
    if (out.kind === "failed") {
      assert.equal(out.error.code, "NODE_LOST");
      assert.match(out.error.message, /node node-test is shutting down: job handed back/);
      assert.equal(out.retryable, true);
    }
    assert.equal(h.agent.report().draining, true);
    assert.ok(
      h.reporter.heartbeats.some((b) => b.draining),
      "the coordinator hears about the drain",
    );
    await assert.rejects(h.agent.startTask(task("diag.echo")), { code: "SERVICE_UNAVAILABLE", message: "node node-test is draining and accepts no new jobs" });
    h.agent.undrain();
    const again = task("diag.echo", { x: 1 });
    await h.agent.startTask(again);
    assert.equal((await h.reporter.outcome(again.job_id)).kind, "completed");
  } finally {
    await h.cleanup();
  }
});

test("refusals: unknown job type, a full node, a duplicate job under another token, malformed tasks", async () => {
  const h = await makeAgent({ agent: { max_concurrent_jobs: 1 } });
  try {
    await assert.rejects(h.agent.startTask(task("video.nope")), {
      code: "CAPABILITY_UNAVAILABLE",
      message: "node node-test has no plugin for job type video.nope",
    });
    const t = task("diag.sleep", { seconds: 60 });
    await h.agent.startTask(t);
    await h.agent.startTask(t); // redelivery of the same lease: accepted, not run twice
    await assert.rejects(h.agent.startTask({ ...t, token: t.token + 1 }), { code: "CONFLICT" });
    await assert.rejects(h.agent.startTask(task("diag.echo")), { code: "CONFLICT", message: "node node-test is full (1/1 jobs running)" });
    await assert.rejects(h.agent.startTask({ ...task("diag.echo"), params: [] as unknown as Record<string, unknown> }), {
      code: "VALIDATION_ERROR",
      details: { field: "params", constraint: "object" },
    });
    await h.agent.cancelTask(t.job_id, t.token);
    await h.reporter.outcome(t.job_id);
    assert.equal(h.reporter.reports.filter((r) => r.job_id === t.job_id && r.kind !== "progress").length, 1);
  } finally {
    await h.cleanup();
  }
});

test("diag.fail: fails with the requested code and retryable flag; fail_times lets a later attempt succeed", async () => {
  const h = await makeAgent();
  try {
    const a1 = task("diag.fail", { message: "boom", code: "GPU_ERROR", retryable: true, fail_times: 1 }, { attempt: 1 });
    await h.agent.startTask(a1);
    const o1 = await h.reporter.outcome(a1.job_id);
    assert.equal(o1.kind, "failed");
    if (o1.kind === "failed") assert.deepEqual([o1.error.code, o1.error.message, o1.retryable], ["GPU_ERROR", "boom", true]);
    const a2 = { ...a1, attempt: 2, token: a1.token + 1000 };
    await h.agent.startTask(a2);
    const o2 = await h.reporter.waitFor((r) => r.job_id === a2.job_id && r.token === a2.token && r.kind !== "progress");
    assert.deepEqual(o2.kind === "completed" && o2.result, { attempt: 2, failed_attempts: 1 });
    const plain = task("diag.fail");
    await h.agent.startTask(plain);
    const o3 = await h.reporter.outcome(plain.job_id);
    assert.deepEqual(o3.kind === "failed" && [o3.error.code, o3.retryable], ["JOB_FAILED", false]);
  } finally {
    await h.cleanup();
  }
});

test("bad diag params fail the job with VALIDATION_ERROR naming the field", async () => {
  const h = await makeAgent();
  try {
    const cases: [string, Record<string, unknown>, string][] = [
      ["diag.sleep", { seconds: 4000 }, "params.seconds"],
      ["diag.sleep", { seconds: "1" }, "params.seconds"],
      ["diag.sleep", { steps: 1.5 }, "params.steps"],
      ["diag.sleep", { child: "yes" }, "params.child"],
      ["diag.fail", { code: "NOPE" }, "params.code"],
      ["diag.fail", { fail_times: -1 }, "params.fail_times"],
    ];
    for (const [type, params, field] of cases) {
      const t = task(type, params);
      await h.agent.startTask(t);
      const o = await h.reporter.outcome(t.job_id);
      assert.equal(o.kind, "failed");
      if (o.kind === "failed") {
        assert.equal(o.error.code, "VALIDATION_ERROR", JSON.stringify(params));
        assert.equal(o.error.details?.field, field);
        assert.equal(o.retryable, false);
      }
    }
  } finally {
    await h.cleanup();
  }
});
