/**
 * The dashboard feed's per-connection diffing (api/dashboard/frames.ts, keys.ts) and row
 * building (rows.ts): what a client is sent is exactly what it needs to rebuild the view.
 */
import { test } from "vitest";
import assert from "node:assert/strict";
import { FrameDiffer, parseView, MAX_WINDOW } from "../../api/dashboard/frames.ts";
import { keysAfter, keysShift } from "../../api/dashboard/keys.ts";
import { nodeRow, outputsOf, recentRow, totalsOf } from "../../api/dashboard/rows.ts";
import type { ListSection } from "../../api/dashboard/protocol.ts";
import type { JobRecord } from "../../core/job.ts";

type Row = { id: string; p: number; m: string };

/** A client as the page and farmctl watch are: keys plus rows by key, patched in place. */
function client() {
  let keys: string[] = [];
  const rows = new Map<string, Row>();
  return {
    apply(s: ListSection<Row> | undefined) {
      if (!s) return;
      for (const r of s.rows) rows.set(r.id, { ...rows.get(r.id), ...r } as Row);
      keys = keysAfter(keys, s);
      for (const k of rows.keys()) if (!keys.includes(k)) rows.delete(k);
    },
    view: () => keys.map((k) => rows.get(k)),
  };
}

test("a list window is sent once, then only changed fields of changed rows, then nothing", () => {
  const d = new FrameDiffer();
  d.setWindows({ running: [0, 3] });
  const c = client();
  const all: Row[] = [
    { id: "a", p: 0, m: "x" },
    { id: "b", p: 0, m: "y" },
    { id: "c", p: 0, m: "z" },
    { id: "d", p: 0, m: "w" },
  ];
  const first = d.list("running", all)!;
  assert.deepEqual(
    first.rows.map((r) => r.id),
    ["a", "b", "c"],
    "only the window's rows",
  );
  assert.equal(first.total, 4);
  c.apply(first);
  const moved = all.map((r) => (r.id === "b" ? { ...r, p: 40 } : r));
  const second = d.list("running", moved)!;
  assert.deepEqual(second.rows, [{ id: "b", p: 40 }], "a patch: the id and the field that changed");
  c.apply(second);
  assert.deepEqual(c.view(), moved.slice(0, 3));
  assert.equal(d.list("running", moved), undefined, "nothing changed: no section");
});

test("new rows on top travel as the new keys plus how many old ones follow", () => {
  const d = new FrameDiffer();
  d.setWindows({ recent: [0, 4] });
  const c = client();
  const mk = (id: string) => ({ id, p: 100, m: "" });
  let all = ["e", "d", "c", "b", "a"].map(mk);
  c.apply(d.list("recent", all));
  all = ["g", "f", ...all.map((r) => r.id)].map(mk);
  const s = d.list("recent", all)!;
  assert.equal(s.keys, undefined);
  assert.deepEqual(s.head, ["g", "f"]);
  assert.equal(s.keep, 2);
  assert.deepEqual(
    s.rows.map((r) => r.id),
    ["g", "f"],
    "only the new rows",
  );
  c.apply(s);
  assert.deepEqual(
    c.view().map((r) => r?.id),
    ["g", "f", "e", "d"],
  );
});

test("a removed row in the middle sends the whole key list; a window past the end shows the last page", () => {
  const d = new FrameDiffer();
  d.setWindows({ nodes: [0, 3] });
  const c = client();
  const mk = (id: string) => ({ id, p: 0, m: "" });
  c.apply(d.list("nodes", ["a", "b", "c", "d"].map(mk)));
  const s = d.list("nodes", ["a", "c", "d"].map(mk))!;
  assert.deepEqual(s.keys, ["a", "c", "d"]);
  assert.deepEqual(
    s.rows.map((r) => r.id),
    ["d"],
  );
  c.apply(s);
  assert.deepEqual(
    c.view().map((r) => r?.id),
    ["a", "c", "d"],
  );
  d.setWindows({ nodes: [50, 2] });
  const end = d.list("nodes", ["a", "c", "d"].map(mk))!;
  assert.equal(end.offset, 1);
  assert.deepEqual(keysAfter([], end), ["c", "d"]);
});

test("keysShift finds prepends only", () => {
  assert.deepEqual(keysShift(["a", "b", "c"], ["x", "a", "b"]), { head: ["x"], keep: 2 });
  assert.deepEqual(keysShift(["a", "b"], ["a", "b"]), { head: [], keep: 2 });
  assert.deepEqual(keysShift([], ["a"]), { head: ["a"], keep: 0 });
  assert.equal(keysShift(["a", "b", "c"], ["b", "c"]), null, "the top row left");
  assert.equal(keysShift(["a", "b", "c"], ["x", "a", "c"]), null, "a row left in the middle");
});

test("totals travel as their changed fields", () => {
  const d = new FrameDiffer();
  const t = totalsOf([], 0, [], {});
  assert.deepEqual(d.fields(t), t, "all of them first");
  assert.equal(d.fields({ ...t }), undefined);
  assert.deepEqual(d.fields({ ...t, running: 3, counts: { running: 3 } }), { running: 3, counts: { running: 3 } });
});

test("view messages are checked: bad windows are dropped and big ones capped", () => {
  assert.deepEqual(parseView({ t: "view", view: { nodes: [10, 20], running: [-1, 5], recent: [0, 1e9], bogus: [0, 1] } }), {
    nodes: [10, 20],
    recent: [0, MAX_WINDOW],
  });
  assert.equal(parseView({ t: "other" }), null);
  assert.equal(parseView("view"), null);
  assert.deepEqual(parseView({ t: "view", view: { nodes: [1.5, 2], running: "x" } }), {});
});

test("node rows and totals from the coordinator's node status; GPUs, models, blocklist, state", () => {
  const n = nodeRow({
    node_id: "gpu-1",
    draining: false,
    blocklisted: { "image.generate": "3 failures" },
    running_jobs: ["j1", "j2"],
    report: {
      max_concurrent_jobs: 4,
      gpus: [{ index: 0, name: "RTX", memory_used_mb: 1000.4, memory_total_mb: 24576, utilization_pct: 55.5, temperature_c: null, simulated: true }],
      resident: [{ model_id: "sdxl", gpu_index: 0, in_use: 1 }],
    },
  });
  assert.deepEqual(n, {
    id: "gpu-1",
    state: "ready",
    running: 2,
    max: 4,
    gpus: [[0, "RTX", 1000, 24576, 56, null, 1]],
    models: [["sdxl", 0, 1]],
    blocked: { "image.generate": "3 failures" },
    note: null,
  });
  assert.equal(nodeRow({ node_id: "x", draining: true, report: {} }).state, "draining");
  assert.equal(nodeRow({ node_id: "x", unavailable: "missed heartbeats", report: {} }).state, "unavailable");
  // A read key's redacted view carries a count instead of job ids.
  assert.equal(nodeRow({ node_id: "x", running_jobs: [], running_count: 3, report: {} }).running, 0);
  const t = totalsOf([n, { ...n, id: "gpu-2", state: "draining", gpus: [[0, "A", 10, 100, null, 40, 0]] }], 2, [["image.generate", 5, 0]], {
    "image.generate": { pending: 5, completed: 7 },
    "diag.echo": { completed: 1 },
  });
  assert.deepEqual(t, {
    nodes: 2,
    draining: 1,
    unavailable: 0,
    gpus: 2,
    simulated_gpus: 1,
    vram_used_mb: 1010,
    vram_total_mb: 24676,
    util_pct: 56,
    running: 2,
    queued: 5,
    counts: { pending: 5, completed: 8 },
  });
});

const job = (over: Partial<JobRecord>): JobRecord => ({
  id: "j",
  type: "t",
  params: {},
  priority: 0,
  status: "completed",
  progress: 100,
  created_at: 1000,
  updated_at: 9000,
  started_at: 3000,
  finished_at: 8000,
  attempts: 1,
  max_attempts: 3,
  requirements: {},
  history: [],
  ...over,
});

test("recent rows: run time, queue wait and the error", () => {
  assert.deepEqual(recentRow(job({ node_id: "n1" })), {
    id: "j",
    type: "t",
    status: "completed",
    duration_s: 5,
    wait_s: 2,
    node: "n1",
    attempts: 1,
    error: null,
    finished_at: 8000,
  });
  const failed = recentRow(job({ status: "failed", started_at: undefined, error: { code: "GPU_ERROR", message: "out of memory" } }));
  assert.equal(failed.duration_s, null);
  assert.equal(failed.error, "GPU_ERROR: out of memory");
});

test("the gallery finds /outputs/ paths wherever a plugin put them, by kind", () => {
  const items = outputsOf(
    job({
      result: {
        image_url: "/outputs/img/a.png",
        saved_file: { path: "/outputs/music/b.mp3" },
        clips: [{ video_url: "/outputs/v/c.mp4?exp=1&sig=abc" }],
        other: "https://example.com/x.png",
        meta: "/outputs/x.json",
      },
    }),
  );
  assert.deepEqual(
    items.map((i) => [i.url, i.kind]),
    [
      ["/outputs/img/a.png", "image"],
      ["/outputs/music/b.mp3", "audio"],
      ["/outputs/v/c.mp4?exp=1&sig=abc", "video"],
      ["/outputs/x.json", "file"],
    ],
  );
  assert.deepEqual(outputsOf(job({ result: null })), []);
});
