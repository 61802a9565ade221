/** ParamCheck: job params against the schema a job type's plugin advertises (issue 17 item 8). */
import { test } from "vitest";
import assert from "node:assert/strict";
import { ParamCheck } from "../../coordinator/param-check.ts";
import { FarmError } from "../../core/errors.ts";
import { silentLogger } from "../../core/logger.ts";
import type { NodeReport } from "../../core/telemetry.ts";

const report = (schemas: NodeReport["param_schemas"]): NodeReport => ({
  node_id: "a",
  hostname: "h",
  started_at: 0,
  draining: false,
  job_types: ["t.x"],
  models: {},
  model_vram: {},
  gpus: [],
  resident: [],
  running_jobs: [],
  max_concurrent_jobs: 1,
  cpu_load: 0,
  reported_at: 0,
  ...(schemas ? { param_schemas: schemas } : {}),
});
const schema = {
  type: "object",
  properties: {
    n: { type: "number", minimum: 0, maximum: 10 },
    opts: { type: "object", properties: { mode: { enum: ["a", "b"] } }, additionalProperties: false },
  },
};

function rejects(fn: () => void, field: string, constraint: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof FarmError);
    assert.equal(e.code, "VALIDATION_ERROR");
    assert.equal(e.details?.field, field, e.message);
    assert.equal(e.details?.constraint, constraint, e.message);
    return true;
  });
}

test("out-of-range, Infinity and nested bad values name their field", () => {
  const c = new ParamCheck(silentLogger);
  const reports = () => [report({ "t.x": schema })];
  rejects(() => c.check("t.x", { n: -1 }, reports, 1), "params.n", "minimum");
  rejects(() => c.check("t.x", { n: Infinity }, reports, 1), "params.n", "maximum");
  rejects(() => c.check("t.x", { n: "5" }, reports, 1), "params.n", "type");
  rejects(() => c.check("t.x", { opts: { mode: "c" } }, reports, 1), "params.opts.mode", "enum");
  rejects(() => c.check("t.x", { opts: { other: 1 } }, reports, 1), "params.opts.other", "additionalProperties");
  c.check("t.x", { n: 10, opts: { mode: "a" } }, reports, 1);
});

test("types without a schema pass; a schema change is seen at the next capability version", () => {
  const c = new ParamCheck(silentLogger);
  let current = [report(undefined)];
  c.check("t.x", { n: -1 }, () => current, 1);
  current = [report({ "t.x": schema })];
  c.check("t.x", { n: -1 }, () => current, 1); // same version: the cached answer (no schema)
  rejects(() => c.check("t.x", { n: -1 }, () => current, 2), "params.n", "minimum");
});

test("a schema that does not compile is skipped (logged), not a reason to refuse every submission", () => {
  const errors: string[] = [];
  const log = { ...silentLogger, error: (msg: string) => void errors.push(msg), child: () => log };
  const c = new ParamCheck(log);
  c.check("t.x", { n: -1 }, () => [report({ "t.x": { type: "no-such-type" } })], 1);
  assert.equal(errors.length, 1);
});
