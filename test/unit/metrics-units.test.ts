/** The pieces behind /metrics that need no server: model churn from heartbeats, mesh error kinds, and the strict text parser the tests rely on. */
import { test } from "vitest";
import assert from "node:assert/strict";
import { ModelTracker } from "../../core/metrics/model-tracker.ts";
import { errorKind } from "../../core/metrics/mesh-errors.ts";
import { CoordinatorMetrics } from "../../core/metrics/coordinator-metrics.ts";
import { PromParseError, parsePrometheusText, valueOf } from "../helpers/prom-text.ts";
import type { JobRecord } from "../../core/job.ts";
import type { ResidentModel } from "../../core/telemetry.ts";

const resident = (model_id: string, loaded_at: number, gpu_index: number | null = 0, load_ms = 1200): ResidentModel => ({
  model_id,
  gpu_index,
  vram_mb: 1000,
  in_use: 0,
  loaded_at,
  last_used_at: loaded_at,
  load_ms,
});

test("model tracker: first heartbeat is a baseline; appear = load (with its time), vanish = eviction, reload = both", () => {
  const t = new ModelTracker();
  assert.deepEqual(t.observe({ node_id: "n1", resident: [resident("a", 1)] }), []);
  assert.deepEqual(t.observe({ node_id: "n1", resident: [resident("a", 1), resident("b", 2, 0, 3400)] }), [
    { node_id: "n1", model_id: "b", kind: "load", load_ms: 3400 },
  ]);
  assert.deepEqual(t.observe({ node_id: "n1", resident: [resident("b", 2, 0, 3400)] }), [{ node_id: "n1", model_id: "a", kind: "eviction" }]);
  // Evicted and loaded again between two heartbeats: loaded_at changed.
  assert.deepEqual(
    t.observe({ node_id: "n1", resident: [resident("b", 9, 0, 500)] }).map((c) => c.kind),
    ["eviction", "load"],
  );
  // The same model on another GPU is another resident copy.
  assert.deepEqual(
    t.observe({ node_id: "n1", resident: [resident("b", 9, 0, 500), resident("b", 10, 1, 700)] }).map((c) => c.kind),
    ["load"],
  );
  // Garbage is ignored, not thrown.
  assert.deepEqual(t.observe({ node_id: "n1", resident: null as unknown as ResidentModel[] }), []);
  t.retain(new Set());
  assert.deepEqual(t.observe({ node_id: "n1", resident: [] }), [], "a forgotten node starts a new baseline");
});

test("mesh errors: transport failures are told apart from errors an action answered", () => {
  assert.deepEqual(errorKind({ type: "REQUEST_TIMEOUT", code: 504 }), { kind: "transport", code: "REQUEST_TIMEOUT" });
  assert.deepEqual(errorKind({ type: "SERVICE_NOT_FOUND", code: 404 }), { kind: "transport", code: "SERVICE_NOT_FOUND" });
  assert.deepEqual(errorKind({ name: "BrokerDisconnectedError" }), { kind: "transport", code: "BROKER_DISCONNECTED" });
  assert.deepEqual(errorKind({ code: "NOT_FOUND", name: "FarmError" }), { kind: "remote", code: "NOT_FOUND" });
  assert.deepEqual(errorKind(undefined), { kind: "remote", code: "ERROR" });
});

const job = (over: Partial<JobRecord>): JobRecord => ({
  id: "j",
  type: "diag.echo",
  params: {},
  priority: 0,
  status: "pending",
  progress: 0,
  created_at: 1000,
  updated_at: 1000,
  attempts: 0,
  max_attempts: 3,
  requirements: {},
  history: [{ at: 1000, event: "submitted" }],
  ...over,
});

test("coordinator metrics: wait counts from the latest (re)queueing, run time from the start, parents never wait", async () => {
  const m = new CoordinatorMetrics();
  m.created(job({}));
  m.moved(["pending"], job({ status: "running", started_at: 3000 }));
  m.moved(
    ["running"],
    job({
      status: "pending",
      history: [
        { at: 1000, event: "submitted" },
        { at: 3000, event: "dispatched" },
        { at: 5000, event: "requeued" },
      ],
    }),
  );
  m.moved(
    ["pending"],
    job({
      status: "running",
      started_at: 5500,
      history: [
        { at: 1000, event: "submitted" },
        { at: 5000, event: "requeued" },
        { at: 5500, event: "dispatched" },
      ],
    }),
  );
  m.moved(["running"], job({ status: "completed", started_at: 5500, finished_at: 8000, requirements: { model: "m1" } }));
  m.created(job({ id: "p", type: "image.batch", status: "running", started_at: 1000 }));
  const fams = parsePrometheusText(await m.registry.metrics());
  assert.equal(valueOf(fams, "farm_job_wait_seconds_count", { type: "diag.echo" }), 2);
  assert.equal(valueOf(fams, "farm_job_wait_seconds_sum", { type: "diag.echo" }), 2 + 0.5);
  assert.equal(valueOf(fams, "farm_job_wait_seconds_count", { type: "image.batch" }), undefined);
  assert.equal(valueOf(fams, "farm_jobs_requeued_total", { type: "diag.echo" }), 1);
  assert.equal(valueOf(fams, "farm_job_run_seconds_sum", { type: "diag.echo", model: "m1", status: "completed" }), 2.5);
  assert.equal(valueOf(fams, "farm_jobs_submitted_total", { type: "image.batch" }), 1);
});

test("the test parser is strict: what Prometheus refuses, it refuses", () => {
  const ok = '# HELP a_total x\n# TYPE a_total counter\na_total{k="v\\"q\\\\\\n"} 3\n';
  assert.equal(valueOf(parsePrometheusText(ok), "a_total", { k: 'v"q\\\n' }), 3);
  const bad = [
    "a 1\n", // no TYPE
    "# TYPE a counter\na 1\na 1\n", // duplicate series
    "# TYPE a counter\n# TYPE a counter\na 1\n", // TYPE twice
    '# TYPE a counter\na{1x="v"} 1\n', // bad label name
    "# TYPE a counter\na{k=v} 1\n", // unquoted
    '# TYPE a counter\na{k="\\t"} 1\n', // bad escape
    "# TYPE a counter\na one\n", // bad value
    "# TYPE a counter\na 1", // no final newline
    '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n', // not cumulative
    '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n', // +Inf != count
    '# TYPE h histogram\nh_bucket{le="1"} 0\nh_sum 0\nh_count 0\n', // no +Inf
  ];
  for (const b of bad) assert.throws(() => parsePrometheusText(b), PromParseError, JSON.stringify(b));
});
