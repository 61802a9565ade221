/**
 * The OpenAPI document served at /docs/json is valid (checked with an OpenAPI 3.1 schema
 * validator), and generated clients come out named and typed: every operation has a unique
 * operationId and documents its success response. Regression: it claimed 3.0.3 while using
 * 3.1's numeric exclusiveMinimum, 12 operations had no success response, none had an id.
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import { Validator } from "@seriousme/openapi-schema-validator";
import { startEmbeddedFarm, type TestFarm } from "../helpers/embedded-farm.ts";
import { operationIdFor } from "../../api/operation-id.ts";

let farm: TestFarm;
let doc: { openapi: string; paths: Record<string, Record<string, { operationId?: string; responses?: Record<string, unknown> }>> };

beforeAll(async () => {
  farm = await startEmbeddedFarm({ agent: { plugins: ["diag"] } });
  const res = await fetch(`${farm.url}/docs/json`);
  assert.equal(res.status, 200);
  doc = (await res.json()) as typeof doc;
});
afterAll(async () => {
  await farm?.destroy();
});

test("the document validates as OpenAPI 3.1", async () => {
  assert.equal(doc.openapi, "3.1.0");
  const result = await new Validator().validate(doc as unknown as Parameters<Validator["validate"]>[0]);
  assert.equal(result.valid, true, JSON.stringify(result.errors, null, 1)?.slice(0, 2000));
});

test("every operation has a unique operationId and a documented success response", () => {
  const ids = new Map<string, string>();
  let ops = 0;
  for (const [p, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      ops++;
      const where = `${method.toUpperCase()} ${p}`;
      assert.ok(op.operationId, `${where} has no operationId`);
      assert.ok(!ids.has(op.operationId), `${where} repeats the operationId of ${ids.get(op.operationId)}`);
      ids.set(op.operationId, where);
      const success = Object.keys(op.responses ?? {}).filter((c) => /^2\d\d$/.test(c));
      assert.ok(success.length > 0, `${where} documents no success response`);
    }
  }
  assert.ok(ops >= 38, `operations: ${ops}`);
  assert.equal(ids.get("postGenerateImage"), "POST /api/v1/generate/image");
  assert.equal(ids.get("getJobsByJobId"), "GET /api/v1/jobs/{job_id}");
});

test("operationIds read as method + path", () => {
  assert.equal(operationIdFor("POST", "/api/v1/jobs/:job_id/cancel"), "postJobsByJobIdCancel");
  assert.equal(operationIdFor("GET", "/health/ready"), "getHealthReady");
  assert.equal(operationIdFor("DELETE", "/api/v1/character/{character_id}"), "deleteCharacterByCharacterId");
  assert.equal(operationIdFor("GET", "/"), "getRoot");
});
