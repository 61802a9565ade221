/**
 * core/errors.ts: Moleculer's "Request is rejected when call ..." (REQUEST_REJECTED) means the
 * node a call was pending on was declared gone, or could not be sent to. The node went away,
 * the farm did not break: it maps to 503 SERVICE_UNAVAILABLE (retryable), not to a 500 that
 * reads like a bug. Built from Moleculer's own error class, as a failed call raises it.
 */
import assert from "node:assert/strict";
import { describe, it } from "vitest";
import Moleculer from "moleculer";
import { ERROR_CATALOG, FarmError, toFarmError } from "../../core/errors.ts";

describe("toFarmError of a rejected mesh call", () => {
  it("maps Moleculer's RequestRejectedError to 503 SERVICE_UNAVAILABLE, keeping its message", () => {
    const raw = new Moleculer.Errors.RequestRejectedError({ action: "agent.startMany", nodeID: "agent-1" });
    const e = toFarmError(raw);
    assert.ok(e instanceof FarmError);
    assert.equal(e.code, "SERVICE_UNAVAILABLE");
    assert.equal(ERROR_CATALOG[e.code].status, 503);
    assert.equal(ERROR_CATALOG[e.code].retryable, true);
    assert.match(e.message, /Request is rejected when call 'agent.startMany' action on 'agent-1' node/);
    assert.equal(e.details?.constraint, "node_gone");
  });

  it("does the same for its serialized form (type only, as it crosses the mesh)", () => {
    const e = toFarmError({ type: "REQUEST_REJECTED", code: 503, message: "Request is rejected when call 'coordinator.report' action on 'c1' node." });
    assert.equal(e.code, "SERVICE_UNAVAILABLE");
  });

  it("leaves an unrelated plain error a 500", () => {
    assert.equal(toFarmError(new Error("boom")).code, "INTERNAL_ERROR");
  });
});
