/**
 * Liveness and readiness on a distributed farm (real nats-server, redis-server, s3rver,
 * each role its own process): readiness names every dependency and answers 503 naming the
 * one that is down, while liveness keeps answering (rate limits on, backed by that Redis).
 * Also: every answer carries a request id of ours.
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import { startLocalFarm, type LocalFarm } from "../../deploy/servers/farm-procs.ts";
import { http } from "../helpers/http.ts";

let farm: LocalFarm;

beforeAll(async () => {
  farm = await startLocalFarm({ agents: 1, env: { FARM_AGENT__PLUGINS: '["diag"]', FARM_API__RATE_LIMITS__ENABLED: "true" } });
});

afterAll(async () => {
  await farm?.stop();
});

type Checks = Record<string, { ok: boolean; error?: string; info?: Record<string, unknown> }>;

test("all up: ready, with coordinator, mesh, redis and artifacts each checked", async () => {
  const r = await http(farm.url, "GET", "/health/ready");
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.ready, true);
  const checks = r.body.checks as Checks;
  assert.deepEqual(Object.keys(checks).sort(), ["artifacts", "coordinator", "mesh", "redis"]);
  for (const [name, c] of Object.entries(checks)) assert.equal(c.ok, true, `${name}: ${c.error}`);
  assert.equal(checks.coordinator!.info?.live_nodes, 1);
  assert.equal(checks.artifacts!.info?.kind, "s3");
});

test("request ids: each answer has its own X-Request-Id", async () => {
  const a = await http(farm.url, "GET", "/health");
  const b = await http(farm.url, "GET", "/health");
  const idA = a.headers.get("x-request-id");
  assert.match(idA ?? "", /^[0-9a-f-]{36}$/);
  assert.notEqual(idA, b.headers.get("x-request-id"));
});

test("S3 down: not ready, naming artifacts; liveness still ok", async () => {
  await farm.s3.stop();
  const r = await http(farm.url, "GET", "/health/ready");
  assert.equal(r.status, 503, JSON.stringify(r.body));
  assert.equal(r.body.code, "SERVICE_UNAVAILABLE");
  assert.match(String(r.body.message), /not ready: artifacts/);
  const checks = (r.body.details as { checks: Checks }).checks;
  assert.equal(checks.artifacts!.ok, false);
  assert.equal(checks.coordinator!.ok, true);
  assert.equal((await http(farm.url, "GET", "/health")).status, 200);
});

test("Redis down: not ready, naming redis (and the coordinator, whose store it is); liveness still ok", async () => {
  await farm.redis.stop();
  const r = await http(farm.url, "GET", "/health/ready");
  assert.equal(r.status, 503, JSON.stringify(r.body));
  const checks = (r.body.details as { checks: Checks }).checks;
  assert.equal(checks.redis!.ok, false, JSON.stringify(checks));
  assert.equal(checks.coordinator!.ok, false, "the coordinator cannot read its job store");
  assert.match(String(r.body.message), /redis/);
  const live = await http(farm.url, "GET", "/health");
  assert.equal(live.status, 200, "a Redis outage must not fail liveness (the rate limiter is skipped there)");
  assert.deepEqual(live.body, { ok: true });
  // Other requests answer 503 naming the cause, not a 500 (regression: every request was a 500).
  const list = await http(farm.url, "GET", "/api/v1/jobs/list");
  assert.equal(list.status, 503, JSON.stringify(list.body));
  assert.equal(list.body.code, "SERVICE_UNAVAILABLE");
  assert.match(String(list.body.message), /not reachable/);
});

test("coordinator gone: not ready, naming the coordinator", async () => {
  await farm.coordinator.kill9();
  const r = await http(farm.url, "GET", "/health/ready");
  assert.equal(r.status, 503);
  const checks = (r.body.details as { checks: Checks }).checks;
  assert.equal(checks.coordinator!.ok, false);
  assert.equal(checks.mesh!.ok, true, "the API itself is still on the mesh");
});
