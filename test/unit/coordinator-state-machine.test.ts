import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FarmError } from "../../core/errors.ts";
import { JOB_STATUSES } from "../../core/job.ts";
import { assertTransition, canTransition, sourcesOf } from "../../coordinator/state-machine.ts";

describe("job state machine", () => {
  it("allows exactly the documented moves", () => {
    const allowed = JOB_STATUSES.flatMap((f) => JOB_STATUSES.filter((t) => canTransition(f, t)).map((t) => `${f}->${t}`));
    assert.deepEqual(allowed.sort(), [
      "pending->cancelled", "pending->failed", "pending->running",
      "running->cancelled", "running->completed", "running->failed", "running->pending",
    ]);
  });

  it("throws CONFLICT naming both statuses for an illegal move", () => {
    assert.throws(() => assertTransition("completed", "cancelled", "j1"), (e: unknown) => {
      assert.ok(e instanceof FarmError);
      assert.equal(e.code, "CONFLICT");
      assert.equal(e.status, 409);
      assert.equal(e.message, "job 'j1' cannot go from completed to cancelled");
      return true;
    });
    assert.throws(() => assertTransition("pending", "completed"), /cannot go from pending to completed/);
    assert.doesNotThrow(() => assertTransition("running", "pending"));
  });

  it("lists where a status can be reached from (the CAS precondition)", () => {
    assert.deepEqual(sourcesOf("cancelled").sort(), ["pending", "running"]);
    assert.deepEqual(sourcesOf("completed"), ["running"]);
    assert.deepEqual(sourcesOf("pending"), ["running"]);
  });
});
