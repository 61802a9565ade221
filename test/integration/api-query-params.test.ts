/**
 * api/query-params.ts on the real front door: empty values count as absent, a repeated one is
 * a 400 naming it, and an unknown path stays a 404. The hook had also run for Fastify's
 * not-found handler, so `GET /no/such/route?a=1&a=2` answered 400 "a: given 2 times" instead
 * of the 404 that says the path is wrong.
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import { startEmbeddedFarm, type TestFarm } from "../helpers/embedded-farm.ts";
import { http } from "../helpers/http.ts";
import { assertEnvelope } from "./api-fixtures.ts";

let farm: TestFarm;
beforeAll(async () => {
  farm = await startEmbeddedFarm({ agent: { plugins: ["diag"] }, api: { rate_limits: { enabled: false } } });
});
afterAll(async () => {
  await farm?.destroy();
});

test("an unknown path is a 404 whatever its query, a repeated parameter on a real route a 400 naming it", async () => {
  for (const q of ["a=1&a=2", "limit=1&limit=2", "__proto__=1&__proto__=2", "a=", "x=1"]) {
    assertEnvelope(await http(farm.url, "GET", `/api/v1/no-such-route?${q}`), 404, "NOT_FOUND", "path");
  }
  assertEnvelope(await http(farm.url, "GET", "/api/v1/jobs/list?limit=1&limit=2"), 400, "VALIDATION_ERROR", "limit");
  // Empty values are absent: the defaults apply.
  const list = await http(farm.url, "GET", "/api/v1/jobs/list?limit=&status=&limit=");
  assert.equal(list.status, 200, JSON.stringify(list.body));
});

test("a key with an empty name (?=x, {\"\": 1}) is a 400 that says so, not ' is not a known field'", async () => {
  const q = assertEnvelope(await http(farm.url, "GET", "/api/v1/jobs/list?=x"), 400, "VALIDATION_ERROR", "querystring");
  assert.equal(q.constraint, "unknown_field");
  const qm = String((await http(farm.url, "GET", "/api/v1/jobs/list?=x")).body.message);
  assert.equal(qm, "querystring has a key with an empty name, which is not a known field");
  const b = await http(farm.url, "POST", "/api/v1/jobs", { type: "diag.echo", params: {}, "": 1 });
  assertEnvelope(b, 400, "VALIDATION_ERROR", "body");
  assert.equal(String(b.body.message), "body has a key with an empty name, which is not a known field");
});
