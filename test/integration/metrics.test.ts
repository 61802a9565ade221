/**
 * GET /metrics on an embedded farm (api + coordinator + agent in one process, the same
 * mesh path as distributed): parsed by a strict Prometheus text parser, counters move
 * with jobs, histograms stay consistent, routes are patterns, GPU and model series come
 * from node reports, rate-limit rejections and mesh call errors are counted, and the
 * endpoint follows the API's keys.
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import { startEmbeddedFarm, type TestFarm } from "../helpers/embedded-farm.ts";
import { http } from "../helpers/http.ts";
import { parsePrometheusText, sumOf, valueOf, type Family } from "../helpers/prom-text.ts";
import { hashKey } from "../../api/auth.ts";
import fs from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { setTimeout as sleep } from "node:timers/promises";

let farm: TestFarm;
const ADMIN = { authorization: "Bearer metrics-test-admin-key" };
const PROM = { authorization: "Bearer metrics-test-prometheus-key" };

beforeAll(async () => {
  farm = await startEmbeddedFarm({
    api: {
      auth: {
        enabled: true,
        keys: [
          { name: "ops", sha256: hashKey("metrics-test-admin-key"), scopes: ["admin"] },
          { name: "prometheus", sha256: hashKey("metrics-test-prometheus-key"), scopes: ["read"] },
        ],
      },
      rate_limits: { enhance: 2 },
    },
    agent: { gpu_probe: "simulated", simulated_gpus: [{ name: "Sim 20G", vram_mb: 20480 }], max_concurrent_jobs: 4 },
  });
});

afterAll(async () => {
  await farm?.destroy();
});

async function scrape(): Promise<Map<string, Family>> {
  const r = await fetch(`${farm.url}/metrics`, { headers: PROM });
  assert.equal(r.status, 200);
  assert.match(r.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await r.text());
}

const run = async (type: string, params: Record<string, unknown> = {}) => {
  const r = await http(farm.url, "POST", "/api/v1/jobs?wait=true", { type, params }, ADMIN);
  assert.ok(r.status === 200, JSON.stringify(r.body));
  return r.body;
};

test("/metrics needs a key with the read scope, like the rest of the API", async () => {
  assert.equal((await fetch(`${farm.url}/metrics`)).status, 401);
  const r = await fetch(`${farm.url}/metrics`, { headers: { authorization: "Bearer wrong" } });
  assert.equal(r.status, 401);
  assert.equal(((await r.json()) as { code: string }).code, "UNAUTHORIZED");
  assert.equal((await fetch(`${farm.url}/metrics`, { headers: PROM })).status, 200);
});

test("job counters and run/wait histograms move with jobs, per type and model", async () => {
  const before = await scrape();
  const sub0 = valueOf(before, "farm_jobs_submitted_total", { type: "diag.echo" }) ?? 0;
  const done0 = valueOf(before, "farm_jobs_completed_total", { type: "diag.echo" }) ?? 0;
  const runs0 = valueOf(before, "farm_job_run_seconds_count", { type: "diag.echo", model: "none", status: "completed" }) ?? 0;
  const waits0 = valueOf(before, "farm_job_wait_seconds_count", { type: "diag.echo" }) ?? 0;
  const failed0 = sumOf(before, "farm_jobs_failed_total", { type: "diag.fail" });

  for (let i = 0; i < 5; i++) assert.equal((await run("diag.echo", { i })).status, "completed");
  const failed = await run("diag.fail", { message: "metrics drill", code: "VALIDATION_ERROR" });
  assert.equal(failed.status, "failed");
  const sleeper = await run("diag.sleep", { seconds: 0.3 });
  assert.equal(sleeper.status, "completed");

  const after = await scrape();
  assert.equal(valueOf(after, "farm_jobs_submitted_total", { type: "diag.echo" }), sub0 + 5);
  assert.equal(valueOf(after, "farm_jobs_completed_total", { type: "diag.echo" }), done0 + 5);
  assert.equal(valueOf(after, "farm_job_run_seconds_count", { type: "diag.echo", model: "none", status: "completed" }), runs0 + 5);
  assert.equal(valueOf(after, "farm_job_wait_seconds_count", { type: "diag.echo" }), waits0 + 5);
  assert.equal(sumOf(after, "farm_jobs_failed_total", { type: "diag.fail" }), failed0 + 1);
  assert.equal(valueOf(after, "farm_jobs_failed_total", { type: "diag.fail", code: "VALIDATION_ERROR" }), failed0 + 1);
  // The 0.3 s sleep lands in the run-time buckets at or above 0.5 s, not below 0.1 s.
  const sleepRun = (le: string) => valueOf(after, "farm_job_run_seconds_bucket", { type: "diag.sleep", le, status: "completed" });
  assert.equal(sleepRun("0.1"), 0);
  assert.equal(sleepRun("0.5"), 1);
  const sleepSum = valueOf(after, "farm_job_run_seconds_sum", { type: "diag.sleep" })!;
  assert.ok(sleepSum >= 0.3 && sleepSum < 5, `sleep run time ${sleepSum}`);
  // Store-side gauges: the job table by type and status.
  assert.ok((valueOf(after, "farm_jobs", { type: "diag.echo", status: "completed" }) ?? 0) >= 5);
  assert.equal(valueOf(after, "farm_coordinator_up"), 1);
});

test("queue depth per type is a gauge read from the coordinator", async () => {
  // Four slots: fill them with sleepers, then two more wait in the queue.
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) {
    const r = await http(farm.url, "POST", "/api/v1/jobs", { type: "diag.sleep", params: { seconds: 1.5 } }, ADMIN);
    assert.equal(r.status, 202);
    ids.push(String(r.body.job_id));
  }
  const m = await scrape();
  assert.equal(valueOf(m, "farm_queue_depth", { type: "diag.sleep" }), 2);
  assert.equal(valueOf(m, "farm_node_running_jobs"), 4);
  for (const id of ids) await http(farm.url, "POST", `/api/v1/jobs/${id}/cancel`, undefined, ADMIN);
  const later = await scrape();
  assert.equal(valueOf(later, "farm_queue_depth", { type: "diag.sleep" }) ?? 0, 0);
  assert.ok((valueOf(later, "farm_jobs_cancelled_total", { type: "diag.sleep" }) ?? 0) >= 2);
});

test("GPU series per node and GPU, and model loads, evictions and cold-load time from heartbeats", async () => {
  const node = farm.nodeId;
  const m0 = await scrape();
  const gpu = { node, gpu: "0", name: "Sim 20G", simulated: "true" };
  assert.equal(valueOf(m0, "farm_gpu_memory_total_bytes", gpu), 20480 * 1024 * 1024);
  assert.equal(valueOf(m0, "farm_nodes", { state: "active" }), 1);
  const loads0 = valueOf(m0, "farm_model_loads_total", { node, model: "diag-small" }) ?? 0;
  const evict0 = valueOf(m0, "farm_model_evictions_total", { node, model: "diag-small" }) ?? 0;

  await run("diag.gpu", { model: "diag-small" });
  await waitFor(async () => (valueOf(await scrape(), "farm_model_loads_total", { node, model: "diag-small" }) ?? 0) === loads0 + 1, "diag-small load seen");
  const m1 = await scrape();
  assert.equal(valueOf(m1, "farm_model_resident_bytes", { node, gpu: "0", model: "diag-small" }), 2048 * 1024 * 1024);
  assert.ok((valueOf(m1, "farm_gpu_memory_used_bytes", gpu) ?? 0) >= 2048 * 1024 * 1024);
  assert.ok((valueOf(m1, "farm_model_load_seconds_count", { model: "diag-small" }) ?? 0) >= 1);

  // diag-large (20000 MiB) does not fit beside diag-small on a 20480 MiB GPU: small is evicted.
  await run("diag.gpu", { model: "diag-large" });
  await waitFor(
    async () => (valueOf(await scrape(), "farm_model_evictions_total", { node, model: "diag-small" }) ?? 0) === evict0 + 1,
    "diag-small eviction seen",
  );
  const m2 = await scrape();
  assert.equal(valueOf(m2, "farm_model_loads_total", { node, model: "diag-large" }), 1);
  assert.equal(valueOf(m2, "farm_model_resident_bytes", { node, gpu: "0", model: "diag-small" }), undefined);
});

test("HTTP requests are histograms by route pattern (never the raw URL), method and status", async () => {
  const { job_id } = await run("diag.echo", { x: 1 });
  const before = await scrape();
  const key = { method: "GET", route: "/api/v1/jobs/:job_id", status: "200" };
  const n0 = valueOf(before, "farm_http_request_duration_seconds_count", key) ?? 0;
  for (let i = 0; i < 3; i++) assert.equal((await http(farm.url, "GET", `/api/v1/jobs/${job_id}`, undefined, ADMIN)).status, 200);
  assert.equal((await http(farm.url, "GET", "/no/such/path", undefined, ADMIN)).status, 404);
  const m = await scrape();
  assert.equal(valueOf(m, "farm_http_request_duration_seconds_count", key), n0 + 3);
  const fam = m.get("farm_http_request_duration_seconds")!;
  assert.equal(fam.type, "histogram");
  assert.ok(!fam.samples.some((s) => String(s.labels.route).includes(String(job_id))), "no series carries a job id");
  assert.ok(fam.samples.some((s) => s.labels.route === "(unmatched)" && s.labels.status === "404"));
  assert.ok((valueOf(m, "process_resident_memory_bytes") ?? 0) > 0, "process metrics of the API process");
});

test("rate-limit rejections are counted by route and group", async () => {
  const route = "/api/v1/enhance/styles";
  const codes: number[] = [];
  for (let i = 0; i < 4; i++) codes.push((await http(farm.url, "GET", route, undefined, PROM)).status);
  assert.deepEqual(codes.filter((c) => c === 429).length, 2, `statuses ${codes}`);
  const m = await scrape();
  assert.equal(valueOf(m, "farm_rate_limit_rejections_total", { route, group: "enhance" }), 2);
});

test("failed mesh calls are counted by action, transport failures apart from errors the action answered", async () => {
  await assert.rejects(farm.broker.call("no-such-service.act"));
  await http(farm.url, "GET", "/api/v1/jobs/00000000-no-such-job", undefined, ADMIN);
  const m = await scrape();
  assert.equal(valueOf(m, "farm_mesh_call_errors_total", { action: "no-such-service.act", kind: "transport", code: "SERVICE_NOT_FOUND" }), 1);
  assert.equal(valueOf(m, "farm_mesh_call_errors_total", { action: "coordinator.get", kind: "remote", code: "NOT_FOUND" }), 1);
  assert.equal(valueOf(m, "farm_metrics_source_up", { node: farm.nodeId }), 1);
});

test("the Grafana dashboard and the Prometheus scrape config ask only for what /metrics serves", async () => {
  const root = path.resolve(import.meta.dirname, "../..");
  const dash = JSON.parse(fs.readFileSync(path.join(root, "deploy/grafana/dashboards/nano-banana-farm.json"), "utf8")) as {
    panels: { targets?: { expr: string }[] }[];
  };
  const exprs = dash.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  assert.ok(exprs.length >= 20);
  const names = new Set(exprs.flatMap((e) => e.match(/\b(farm|nodejs|process)_[a-z0-9_]+/g) ?? []).map((n) => n.replace(/_(bucket|count|sum)$/, "")));
  const m = await scrape();
  for (const n of names) assert.ok(m.has(n), `dashboard metric ${n} is served`);
  const prom = parseYaml(fs.readFileSync(path.join(root, "deploy/prometheus/prometheus.yml"), "utf8")) as {
    scrape_configs: { metrics_path: string; authorization: { type: string } }[];
  };
  assert.equal(prom.scrape_configs[0]!.metrics_path, "/metrics");
  assert.equal(prom.scrape_configs[0]!.authorization.type, "Bearer");
});

async function waitFor(cond: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await sleep(100);
  }
  assert.fail(`timed out waiting for: ${what}`);
}
