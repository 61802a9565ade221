import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "vitest";
import { FarmError } from "../../core/errors.ts";
import { JOB_STATUSES } from "../../core/job.ts";
import type { JobPatch, TransitionOptions } from "../../coordinator/job-store.ts";
import { assertTransition, canTransition, createdAs, moveJob, sourcesOf, updateJob } from "../../coordinator/state-machine.ts";
import { newJobRecord } from "../../coordinator/submission.ts";

/** A store that records the compare-and-sets it is asked for and answers null (lost race). */
function recordingStore() {
  const calls: { id: string; from: readonly string[]; patch: JobPatch; opts: TransitionOptions | undefined }[] = [];
  return {
    calls,
    transition: async (id: string, from: readonly string[], patch: JobPatch, opts?: TransitionOptions) => (calls.push({ id, from, patch, opts }), null),
  };
}

/** Every .ts file under a folder, recursively. */
function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? tsFiles(p) : e.name.endsWith(".ts") ? [p] : [];
  });
}

describe("job state machine", () => {
  it("allows exactly the documented moves", () => {
    const allowed = JOB_STATUSES.flatMap((f) => JOB_STATUSES.filter((t) => canTransition(f, t)).map((t) => `${f}->${t}`));
    assert.deepEqual(allowed.sort(), [
      "pending->cancelled",
      "pending->failed",
      "pending->running",
      "running->cancelled",
      "running->completed",
      "running->failed",
      "running->pending",
    ]);
  });

  it("throws CONFLICT naming both statuses for an illegal move", () => {
    assert.throws(
      () => assertTransition("completed", "cancelled", "j1"),
      (e: unknown) => {
        assert.ok(e instanceof FarmError);
        assert.equal(e.code, "CONFLICT");
        assert.equal(e.status, 409);
        assert.equal(e.message, "job 'j1' cannot go from completed to cancelled");
        return true;
      },
    );
    assert.throws(() => assertTransition("pending", "completed"), /cannot go from pending to completed/);
    assert.doesNotThrow(() => assertTransition("running", "pending"));
  });

  it("lists where a status can be reached from (the CAS precondition)", () => {
    assert.deepEqual(sourcesOf("cancelled").sort(), ["pending", "running"]);
    assert.deepEqual(sourcesOf("completed"), ["running"]);
    assert.deepEqual(sourcesOf("pending"), ["running"]);
  });

  it("moveJob checks the move before the store sees it, then writes one compare-and-set expecting the source status", async () => {
    const store = recordingStore();
    await assert.rejects(moveJob(store, "j1", "completed", "pending", { progress: 0 }), (e: unknown) => e instanceof FarmError && e.code === "CONFLICT");
    assert.equal(store.calls.length, 0, "an illegal move never reaches the store");
    const history = { at: 5, event: "requeued" };
    assert.equal(await moveJob(store, "j1", "running", "pending", { progress: 0 }, { leaseToken: 3, history }), null);
    assert.deepEqual(store.calls, [{ id: "j1", from: ["running"], patch: { progress: 0, status: "pending" }, opts: { leaseToken: 3, history } }]);
  });

  it("updateJob keeps the status and only writes while the job still has it", async () => {
    const store = recordingStore();
    await updateJob(store, "j2", "running", { cancel_requested: true });
    assert.deepEqual(store.calls, [{ id: "j2", from: ["running"], patch: { cancel_requested: true }, opts: undefined }]);
  });

  it("createdAs makes a new record in a later status only by a legal move from pending", () => {
    const rec = newJobRecord({ type: "diag.echo", params: {}, priority: 0 }, {}, 10, 1);
    const running = createdAs(rec, "running", { started_at: 10 });
    assert.equal(running.status, "running");
    assert.equal(running.started_at, 10);
    assert.equal(rec.status, "pending", "the source record is left as it is");
    assert.throws(() => createdAs(rec, "completed", {}), /cannot go from pending to completed/);
  });

  it("is the only path by which coordinator/ code changes a status (stores aside)", () => {
    const root = path.resolve(import.meta.dirname, "../../coordinator");
    const offenders = tsFiles(root)
      .filter((f) => !f.startsWith(path.join(root, "stores")) && path.basename(f) !== "state-machine.ts")
      .flatMap((f) =>
        transitionCalls(fs.readFileSync(f, "utf8"))
          .filter((call) => /\bstatus\s*:/.test(call))
          .map(() => path.relative(root, f)),
      );
    assert.deepEqual(offenders, [], "status changes must go through moveJob (state-machine.ts)");
  });

  it("is the only path by which coordinator/ code writes a job at all: a same-status field patch (e.g. the webhook worker's) goes through updateJob", () => {
    const root = path.resolve(import.meta.dirname, "../../coordinator");
    const writers = tsFiles(root)
      .filter((f) => !f.startsWith(path.join(root, "stores")) && path.basename(f) !== "state-machine.ts" && path.basename(f) !== "job-store.ts")
      .filter((f) => transitionCalls(fs.readFileSync(f, "utf8")).length > 0)
      .map((f) => path.relative(root, f));
    assert.deepEqual(writers, [], "job writes must go through moveJob / updateJob (state-machine.ts)");
  });
});

/** The argument text of every `.transition(...)` call in `src` (parentheses matched). */
function transitionCalls(src: string): string[] {
  const out: string[] = [];
  for (const m of src.matchAll(/\.transition\(/g)) {
    let depth = 1;
    let i = m.index + m[0].length;
    const start = i;
    for (; i < src.length && depth > 0; i++) {
      if (src[i] === "(") depth++;
      else if (src[i] === ")") depth--;
    }
    out.push(src.slice(start, i - 1));
  }
  return out;
}
