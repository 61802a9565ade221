/**
 * The agent's side of a leader takeover (issue 15): once it has heard of a leader epoch, a
 * dispatch from an older leader (a deposed coordinator's late send) is refused, and its
 * heartbeats carry the epoch, which is what lets the new leader re-queue at once the jobs
 * it recovered that the agent does not hold (test/unit/leader-recovered-jobs.test.ts).
 */
import assert from "node:assert/strict";
import { test } from "vitest";
import { toFarmError } from "../../core/errors.ts";
import { makeAgent, task } from "./agent-harness.ts";

test("refuses a dispatch from a leader older than one heard of, and reports the epoch it knows", async () => {
  const h = await makeAgent();
  try {
    await h.agent.heartbeatNow();
    assert.equal((h.reporter.heartbeats.at(-1) as { leader_epoch?: number }).leader_epoch, undefined, "no epoch before any leader was heard of");
    h.agent.noteLeaderEpoch(3);
    h.agent.noteLeaderEpoch(2); // an older announcement arriving late changes nothing
    h.agent.noteLeaderEpoch("7"); // not an integer: ignored
    const old = task("diag.sleep", { seconds: 5, steps: 1 }, { epoch: 2 });
    const err = await h.agent.startTask(old).then(
      () => null,
      (e: unknown) => toFarmError(e),
    );
    assert.equal(err?.code, "STALE_LEASE");
    assert.equal(err?.details?.field, "epoch");
    assert.deepEqual(h.agent.report().running_jobs, [], "the old leader's task did not start");
    await h.agent.heartbeatNow();
    assert.equal((h.reporter.heartbeats.at(-1) as { leader_epoch?: number }).leader_epoch, 3);
    // The current leader's dispatch runs; a newer leader's dispatch raises the epoch.
    const cur = task("diag.echo", {}, { epoch: 3 });
    await h.agent.startTask(cur);
    assert.equal((await h.reporter.outcome(cur.job_id)).kind, "completed");
    const newer = task("diag.echo", {}, { epoch: 4 });
    await h.agent.startTask(newer);
    await h.reporter.outcome(newer.job_id);
    await h.agent.heartbeatNow();
    assert.equal((h.reporter.heartbeats.at(-1) as { leader_epoch?: number }).leader_epoch, 4);
    // A new term's own announcement is taken even when lower (Redis restored from an old
    // snapshot, every coordinator restarted): otherwise the only leader would be refused forever.
    h.agent.noteLeaderEpoch(2, true);
    await h.agent.startTask(task("diag.echo", {}, { epoch: 2 }));
    // A dispatch without an epoch (one coordinator, no HA) is not fenced here.
    const plain = task("diag.echo");
    await h.agent.startTask(plain);
    assert.equal((await h.reporter.outcome(plain.job_id)).kind, "completed");
  } finally {
    await h.cleanup();
  }
});

test("a dispatch whose epoch is not a positive integer is a VALIDATION_ERROR naming epoch, and leaves the noted epoch as it was", async () => {
  const h = await makeAgent();
  try {
    h.agent.noteLeaderEpoch(3);
    // A string (a hand-written or foreign sender), a fraction, zero, null (JSON's NaN): each was
    // taken as the epoch before (a string then compared as text and was reported as one).
    for (const epoch of ["9", 3.5, 0, null] as unknown[]) {
      const t = task("diag.echo", {}, { epoch: epoch as number });
      const err = await h.agent.startTask(t).then(
        () => null,
        (e: unknown) => toFarmError(e),
      );
      assert.equal(err?.code, "VALIDATION_ERROR", `epoch ${JSON.stringify(epoch)}`);
      assert.equal(err?.details?.field, "epoch");
    }
    assert.deepEqual(h.agent.report().running_jobs, []);
    await h.agent.heartbeatNow();
    assert.equal((h.reporter.heartbeats.at(-1) as { leader_epoch?: unknown }).leader_epoch, 3);
    // The fence still holds: an older leader's dispatch is refused.
    const old = await h.agent.startTask(task("diag.echo", {}, { epoch: 2 })).then(
      () => null,
      (e: unknown) => toFarmError(e),
    );
    assert.equal(old?.code, "STALE_LEASE");
  } finally {
    await h.cleanup();
  }
});
