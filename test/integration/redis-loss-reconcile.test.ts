/**
 * Reconciliation after Redis loses the farm's data under a running coordinator (issue 18
 * item 4, second half). Real redis-server, the Coordinator over RedisJobStore, the loss
 * watcher that notices the vanished marker key. After FLUSHALL:
 *   - the running job's agent is told to cancel it, and the queued job leaves the queue;
 *   - every waiter gets an error event naming the loss (SERVICE_UNAVAILABLE, job_store_lost);
 *   - the agent's late report is refused (STALE_LEASE), nothing crashes, and the farm
 *     still runs new jobs.
 * Before the fix the coordinator kept the lost jobs in memory: no log per job, the agent
 * ran on, and API waiters waited for an ending that never came.
 * The API side: a sync waiter whose job vanished answers the error at once, not at the
 * sync timeout.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import { afterAll, beforeAll, test } from "vitest";
import { Redis } from "ioredis";
import { FarmError } from "../../core/errors.ts";
import { silentLogger } from "../../core/logger.ts";
import { startRedis, type ServerHandle } from "../../deploy/servers/infra.ts";
import { RedisJobStore } from "../../coordinator/stores/redis-store.ts";
import { RedisLossWatcher } from "../../coordinator/stores/redis-durability.ts";
import { harness, type Harness } from "../unit/coordinator-harness.ts";
import { waitForJob } from "../../api/job-waiter.ts";
import type { FarmClient } from "../../api/farm-client.ts";
import type { JobEvent, JobRecord } from "../../core/job.ts";

let server: ServerHandle;
let x: Harness | undefined;
let redis: Redis | undefined;

beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await x?.shutdown().catch(() => {});
  if (x) fs.rmSync(x.dir, { recursive: true, force: true });
  redis?.disconnect();
  await server.stop();
});

test("after Redis lost its data, running jobs are cancelled on their agents, queued ones dropped, and waiters told", async () => {
  const prefix = `r-${randomUUID().slice(0, 8)}:`;
  x = await harness({ store: new RedisJobStore({ url: server.url, prefix }) });
  redis = new Redis(server.url);
  let reconciled: Promise<unknown> | undefined;
  const watcher = new RedisLossWatcher(redis, prefix, silentLogger, () => {
    reconciled = x!.coord.reconcile();
  });
  await watcher.start(3_600_000);

  await x.heartbeat({ id: "a", max: 1 });
  const running = await x.coord.submit({ type: "diag.echo" });
  const queued = await x.coord.submit({ type: "diag.echo" });
  await x.settle();
  const t = x.dispatcher.last(running.id);
  assert.equal(t.node, "a");
  assert.equal((await x.coord.get(queued.id)).status, "pending");

  await redis.flushall();
  assert.equal(await watcher.check(), false, "the watcher did not notice the loss");
  const report = (await reconciled) as { lost_running: { job_id: string; node_id: string }[]; lost_pending: string[]; checked: number };
  assert.deepEqual(report.lost_running, [{ job_id: running.id, node_id: "a" }]);
  assert.deepEqual(report.lost_pending, [queued.id]);
  assert.equal(report.checked, 2);

  assert.deepEqual(x.dispatcher.cancelled, [{ node: "a", job: running.id, token: t.task.token }]);
  for (const id of [running.id, queued.id]) {
    const e = x.events.find((ev) => ev.job_id === id && ev.type === "error") as Extract<JobEvent, { type: "error" }> | undefined;
    assert.ok(e, `no error event for ${id}`);
    assert.equal(e.error.code, "SERVICE_UNAVAILABLE");
    assert.equal((e.error.details as { constraint?: string }).constraint, "job_store_lost");
    assert.match(e.error.message, /lost: the job store \(Redis\) lost its data/);
  }
  const status = await x.coord.status();
  assert.deepEqual(status.running, []);
  assert.deepEqual(status.queue, {});

  // The agent finished anyway before the cancel arrived: its report is refused, not a crash.
  await assert.rejects(
    x.coord.reportCompleted({ node_id: "a", job_id: running.id, token: t.task.token, result: {} }),
    (err: unknown) => err instanceof FarmError && err.code === "STALE_LEASE",
  );
  // A second pass finds nothing more to do.
  const again = await x.coord.reconcile();
  assert.deepEqual([again.lost_running, again.lost_pending, again.checked], [[], [], 0]);

  // The farm goes on: a new job runs on the freed slot.
  const next = await x.coord.submit({ type: "diag.echo" });
  await x.settle();
  assert.equal(x.dispatcher.last(next.id).node, "a");
  watcher.stop();
});

test("a sync waiter whose job the store lost answers the loss at once, not at its timeout", async () => {
  const job = { id: "gone-1", status: "running" } as JobRecord;
  const listeners: ((e: JobEvent) => void)[] = [];
  const farm = {
    events: {
      subscribe: (_id: string, fn: (e: JobEvent) => void) => {
        listeners.push(fn);
        return () => {};
      },
      recentEnd: () => undefined,
    },
    get: async (id: string) => {
      throw new FarmError("NOT_FOUND", `job '${id}' not found`, { field: "job_id" });
    },
  } as unknown as FarmClient;
  const started = Date.now();
  const waiting = waitForJob(farm, job, 60_000);
  setTimeout(
    () =>
      listeners.forEach((fn) =>
        fn({
          type: "error",
          job_id: "gone-1",
          status: "failed",
          at: Date.now(),
          error: {
            code: "SERVICE_UNAVAILABLE",
            message: "job 'gone-1' was lost: the job store (Redis) lost its data",
            details: { constraint: "job_store_lost" },
          },
        }),
      ),
    50,
  );
  await assert.rejects(waiting, (err: unknown) => err instanceof FarmError && err.code === "SERVICE_UNAVAILABLE" && /lost/.test(err.message));
  assert.ok(Date.now() - started < 5000);

  // No event at all (the coordinator restarted on the empty store): the slow poll ends the wait with NOT_FOUND.
  const t0 = Date.now();
  await assert.rejects(
    waitForJob(farm, { id: "gone-2", status: "pending" } as JobRecord, 60_000),
    (err: unknown) => err instanceof FarmError && err.code === "NOT_FOUND",
  );
  assert.ok(Date.now() - t0 < 15_000, `waited ${Date.now() - t0} ms`);
});
