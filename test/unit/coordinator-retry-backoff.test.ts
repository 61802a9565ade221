/**
 * Retry backoff: a retryable failure re-queues its job after an exponential, jittered,
 * capped delay instead of at once; a cancel during the wait sticks; hand-backs (drain) and
 * lost nodes are not delayed.
 */
import { describe, it } from "vitest";
import assert from "node:assert/strict";
import { retryDelayMs } from "../../coordinator/retry-backoff.ts";
import { harness } from "./coordinator-harness.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("retryDelayMs", () => {
  it("doubles per attempt, half fixed and half jitter, capped; 0 turns it off", () => {
    const cfg = { retry_backoff_ms: 1000, retry_backoff_max_ms: 6000 };
    assert.equal(
      retryDelayMs(1, cfg, () => 0),
      500,
    );
    assert.equal(
      retryDelayMs(1, cfg, () => 1),
      1000,
    );
    assert.equal(
      retryDelayMs(2, cfg, () => 0.5),
      1500,
    );
    assert.equal(
      retryDelayMs(3, cfg, () => 1),
      4000,
    );
    assert.equal(
      retryDelayMs(4, cfg, () => 1),
      6000,
      "capped",
    );
    assert.equal(
      retryDelayMs(30, cfg, () => 0),
      3000,
      "capped, still jittered",
    );
    assert.equal(
      retryDelayMs(3, { retry_backoff_ms: 0 }, () => 1),
      0,
    );
    assert.equal(
      retryDelayMs(3, {}, () => 1),
      0,
    );
  });
});

describe("coordinator retry backoff", () => {
  it("a retryable failure waits out its backoff before the job is dispatched again", async () => {
    const x = await harness({ config: { retry_backoff_ms: 400, retry_backoff_max_ms: 400 } });
    await x.heartbeat({ id: "a" });
    await x.heartbeat({ id: "b" });
    const job = await x.coord.submit({ type: "diag.echo" });
    await x.settle();
    const first = x.dispatcher.last(job.id);
    await x.coord.reportFailed({
      node_id: first.node,
      job_id: job.id,
      token: 1,
      error: { code: "EXTERNAL_API_ERROR", message: "provider 503" },
      retryable: true,
    });
    await x.settle();
    assert.equal(x.dispatcher.started.filter((s) => s.task.job_id === job.id).length, 1, "not re-dispatched at once");
    const waiting = await x.coord.get(job.id);
    assert.equal(waiting.status, "pending");
    assert.match(String(waiting.history.at(-1)?.reason), /retrying in 0\.[2-4] s/);
    await sleep(450);
    await x.settle();
    const second = x.dispatcher.last(job.id);
    assert.equal(second.task.attempt, 2);
    assert.notEqual(second.node, first.node);
    await x.shutdown();
  });

  it("a job cancelled during its backoff stays cancelled", async () => {
    const x = await harness({ config: { retry_backoff_ms: 200, retry_backoff_max_ms: 200 } });
    await x.heartbeat({ id: "a" });
    const job = await x.coord.submit({ type: "diag.echo" });
    await x.settle();
    await x.coord.reportFailed({ node_id: "a", job_id: job.id, token: 1, error: { code: "GPU_ERROR", message: "CUDA out of memory" }, retryable: true });
    await x.coord.cancel(job.id);
    await sleep(300);
    await x.settle();
    assert.equal(x.dispatcher.started.filter((s) => s.task.job_id === job.id).length, 1);
    assert.equal((await x.coord.get(job.id)).status, "cancelled");
    await x.shutdown();
  });

  it("a drain hand-back is re-queued at once, without backoff", async () => {
    const x = await harness({ config: { retry_backoff_ms: 60_000 } });
    await x.heartbeat({ id: "a" });
    const job = await x.coord.submit({ type: "diag.echo" });
    await x.settle();
    await x.heartbeat({ id: "a", draining: true });
    await x.heartbeat({ id: "b" });
    await x.coord.reportFailed({ node_id: "a", job_id: job.id, token: 1, error: { code: "NODE_LOST", message: "agent draining" }, retryable: true });
    await x.settle();
    assert.equal(x.dispatcher.last(job.id).node, "b");
    await x.shutdown();
  });
});
