/**
 * The dashboard hub (api/dashboard/feed.ts) over an in-memory farm client: who sees which
 * jobs, progress from events between polls, recent jobs refreshed when a job ends, and no
 * polling while no dashboard is open.
 */
import { test } from "vitest";
import assert from "node:assert/strict";
import { FarmFeed } from "../../api/dashboard/feed.ts";
import { JobEventBus, type FarmClient, type JobListFilter } from "../../api/farm-client.ts";
import type { JobRecord } from "../../core/job.ts";
import { systemClock } from "../../core/clock.ts";
import { silentLogger } from "../../core/logger.ts";

const rec = (id: string, over: Partial<JobRecord> = {}): JobRecord => ({
  id,
  type: "diag.sleep",
  params: {},
  priority: 0,
  status: "running",
  progress: 10,
  created_at: 1000,
  updated_at: 2000,
  started_at: 1500,
  attempts: 1,
  max_attempts: 3,
  requirements: {},
  history: [],
  node_id: "n1",
  ...over,
});

function farm(jobs: JobRecord[]) {
  const calls = { status: 0, list: [] as JobListFilter[] };
  const events = new JobEventBus();
  const client = {
    events,
    async status() {
      calls.status++;
      const running = jobs.filter((j) => j.status === "running");
      return {
        nodes: [
          {
            node_id: "n1",
            draining: false,
            blocklisted: {},
            running_jobs: running.map((j) => j.id),
            report: { max_concurrent_jobs: 4, gpus: [], resident: [] },
          },
        ],
        running: running.map((j) => ({ job_id: j.id, type: j.type, node_id: "n1", gpu_index: null, attempts: 1 })),
        queue: { "diag.echo": jobs.filter((j) => j.status === "pending").length },
        counts: {},
      };
    },
    async list(f: JobListFilter) {
      calls.list.push(f);
      const all = jobs
        .filter(
          (j) =>
            (f.status === undefined || j.status === f.status) &&
            (f.type === undefined || j.type === f.type) &&
            (f.owner === undefined || (f.owner === null ? !j.owner : j.owner === f.owner)),
        )
        .sort((a, b) => b.created_at - a.created_at);
      return { jobs: all.slice(f.offset ?? 0, (f.offset ?? 0) + (f.limit ?? 50)), total: all.length };
    },
  } as unknown as FarmClient;
  return { client, calls, events, jobs };
}

test("an admin sees every running job, a key only its own; progress events show before the next poll", async () => {
  const f = farm([rec("a", { owner: "alice" }), rec("b", { owner: "bob" }), rec("c")]);
  const feed = new FarmFeed(f.client, systemClock, silentLogger, { tickMs: 60_000 });
  const stop = feed.subscribe(() => undefined);
  try {
    const s = await feed.current();
    assert.deepEqual(
      feed.runningRows(s, { all: true }).map((r) => r.id),
      ["a", "b", "c"],
    );
    assert.deepEqual(
      feed.runningRows(s, { all: false, owner: "alice" }).map((r) => r.id),
      ["a"],
    );
    assert.deepEqual(
      feed.runningRows(s, { all: false, owner: null }).map((r) => r.id),
      ["c"],
      "anonymous: the unowned jobs",
    );
    assert.equal(feed.runningRows(s, { all: true })[0]!.progress, 10, "from the job record until an event says more");
    f.events.emit({ type: "progress", job_id: "a", progress: 57.8, message: "step 5/9", at: 3000 });
    const row = feed.runningRows(s, { all: true })[0]!;
    assert.equal(row.progress, 57);
    assert.equal(row.message, "step 5/9");
    assert.equal(row.started_at, 1500);
  } finally {
    stop();
  }
});

test("recent jobs are listed per scope, and listed again once a job ends", async () => {
  const f = farm([
    rec("x", { status: "completed", finished_at: 5000, owner: "alice", result: { image_url: "/outputs/x.png" } }),
    rec("y", { status: "failed", finished_at: 6000, owner: "bob" }),
  ]);
  const feed = new FarmFeed(f.client, systemClock, silentLogger, { tickMs: 60_000 });
  const stop = feed.subscribe(() => undefined);
  try {
    const all = await feed.recentFor({ all: true });
    assert.deepEqual(
      all.rows.map((r) => r.id),
      ["y", "x"],
      "newest end first",
    );
    assert.deepEqual(
      all.gallery.map((g) => g.url),
      ["/outputs/x.png"],
    );
    const bob = await feed.recentFor({ all: false, owner: "bob" });
    assert.deepEqual(
      bob.rows.map((r) => r.id),
      ["y"],
    );
    assert.deepEqual(bob.gallery, [], "not another key's outputs");
    const lists = f.calls.list.length;
    await feed.recentFor({ all: true });
    assert.equal(f.calls.list.length, lists, "cached while nothing ended");
    f.jobs.push(rec("z", { status: "completed", finished_at: 7000 }));
    f.events.emit({ type: "completed", job_id: "z", result: {}, at: 7000 });
    assert.deepEqual(
      (await feed.recentFor({ all: true })).rows.map((r) => r.id),
      ["z", "y", "x"],
    );
  } finally {
    stop();
  }
});

test("the queue's oldest wait comes from the last pending job; the hub polls only while someone listens", async () => {
  const f = farm([rec("p1", { status: "pending", type: "diag.echo", created_at: 100 }), rec("p2", { status: "pending", type: "diag.echo", created_at: 200 })]);
  const feed = new FarmFeed(f.client, systemClock, silentLogger, { tickMs: 20 });
  const frames: number[] = [];
  const stop = feed.subscribe((s) => frames.push(s.at));
  const s = await feed.current();
  assert.deepEqual(s.queue, [["diag.echo", 2, 100]]);
  // Waits for the second frame (a fixed 150 ms could see one frame when a loaded machine ran the
  // 20 ms interval late); the deadline only ends a hub that never ticks.
  for (const end = Date.now() + 30_000; frames.length < 2 && Date.now() < end;) await new Promise((r) => setTimeout(r, 10));
  stop();
  assert.ok(frames.length >= 2, `ticks while subscribed: ${frames.length}`);
  const polls = f.calls.status;
  await new Promise((r) => setTimeout(r, 150));
  assert.ok(f.calls.status <= polls + 1, "at most the poll in flight finishes after the last dashboard left");
});
