/**
 * /metrics and webhooks on a distributed farm (API, coordinator and an agent as separate
 * processes over real nats-server, redis-server and s3rver): the API process serves the
 * coordinator's job counters and GPU series, fetched over the mesh, beside its own HTTP
 * series; a webhook is delivered by the coordinator with its attempts kept in Redis.
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { startLocalFarm, type LocalFarm } from "../../deploy/servers/farm-procs.ts";
import { http, waitJob } from "../helpers/http.ts";
import { parsePrometheusText, sumOf, valueOf } from "../helpers/prom-text.ts";
import { verifySignature } from "../../coordinator/webhooks/signature.ts";
import { setTimeout as sleep } from "node:timers/promises";

const SECRET = "distributed-webhook-secret-42";
let farm: LocalFarm;
let receiver: Server;
let receiverUrl = "";
const received: { body: string; sig: string }[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ body: Buffer.concat(chunks).toString("utf8"), sig: String(req.headers["x-farm-signature"]) });
      res.writeHead(received.length === 1 ? 500 : 204).end();
    });
  });
  await new Promise<void>((r) => {
    receiver.listen(0, "127.0.0.1", r);
  });
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  farm = await startLocalFarm({
    agents: 1,
    env: {
      FARM_AGENT__PLUGINS: '["diag"]',
      FARM_AGENT__TELEMETRY_INTERVAL_MS: "500",
      FARM_AGENT__GPU_PROBE: "simulated",
      FARM_AGENT__SIMULATED_GPUS: '[{"name":"Sim 24G","vram_mb":24576}]',
      FARM_API__RATE_LIMITS__ENABLED: "false",
      FARM_WEBHOOKS__SECRET: SECRET,
      FARM_WEBHOOKS__ALLOW_PRIVATE_ADDRESSES: "true",
      FARM_WEBHOOKS__RETRY_BASE_MS: "200",
    },
  });
});

afterAll(async () => {
  await farm?.stop();
  receiver?.closeAllConnections();
  await new Promise((r) => {
    receiver?.close(r);
  });
});

const scrape = async () => {
  const r = await fetch(`${farm.url}/metrics`);
  assert.equal(r.status, 200);
  return parsePrometheusText(await r.text());
};

test("the API serves the coordinator's metrics over the mesh: job counters, histograms, GPUs, plus its own HTTP series", async () => {
  const m0 = await scrape();
  const done0 = valueOf(m0, "farm_jobs_completed_total", { type: "diag.echo" }) ?? 0;
  const ids: string[] = [];
  for (let i = 0; i < 8; i++) {
    const r = await http(farm.url, "POST", "/api/v1/jobs", { type: "diag.echo", params: { i } });
    assert.equal(r.status, 202);
    ids.push(String(r.body.job_id));
  }
  for (const id of ids) assert.equal((await waitJob(farm.url, id)).status, "completed");
  const m = await scrape();
  assert.equal(valueOf(m, "farm_jobs_completed_total", { type: "diag.echo" }), done0 + 8);
  assert.equal(valueOf(m, "farm_job_run_seconds_count", { type: "diag.echo", model: "none", status: "completed" }), done0 + 8);
  assert.equal(valueOf(m, "farm_coordinator_up"), 1);
  assert.equal(sumOf(m, "farm_gpu_memory_total_bytes", { name: "Sim 24G", simulated: "true" }), 24576 * 1024 * 1024);
  assert.equal(valueOf(m, "farm_nodes", { state: "active" }), 1);
  assert.ok((valueOf(m, "farm_http_request_duration_seconds_count", { method: "POST", route: "/api/v1/jobs", status: "202" }) ?? 0) >= 8);
  // Both the API and the coordinator process answered the scrape.
  const sources = m.get("farm_metrics_source_up")!.samples;
  assert.equal(sources.length, 2, JSON.stringify(sources));
  assert.ok(sources.every((s) => s.value === 1));
});

test("a webhook is delivered by the coordinator, retried after a 500, attempts kept in Redis", async () => {
  const r = await http(farm.url, "POST", "/api/v1/jobs", { type: "diag.echo", params: { hook: true }, webhook_url: receiverUrl });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  const id = String(r.body.job_id);
  const deadline = Date.now() + 20_000;
  let wh: { state: string; attempts: { status: number | null }[] } | undefined;
  while (Date.now() < deadline) {
    wh = (await http(farm.url, "GET", `/api/v1/jobs/${id}`)).body.webhook as typeof wh;
    if (wh?.state === "delivered") break;
    await sleep(100);
  }
  assert.equal(wh?.state, "delivered", JSON.stringify(wh));
  assert.deepEqual(
    wh!.attempts.map((a) => a.status),
    [500, 204],
  );
  assert.equal(received.length, 2);
  for (const x of received) {
    assert.ok(verifySignature(SECRET, x.body, x.sig));
    assert.equal(JSON.parse(x.body).job_id, id);
  }
});
