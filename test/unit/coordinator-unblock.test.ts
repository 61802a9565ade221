/**
 * Unblocking a node: its blocklist and failure counters live in the store per node id, so a
 * node that is offline now can still be unblocked; an id the farm neither lists nor holds a
 * blocklist or counter for is a typo and answers NOT_FOUND, as drain does.
 */
import assert from "node:assert/strict";
import { describe, it } from "vitest";
import { FarmError } from "../../core/errors.ts";
import { harnessPerFile, type Harness } from "./coordinator-harness.ts";

const h = harnessPerFile();

const notFound = (id: string) => (e: unknown) => {
  assert.ok(e instanceof FarmError, String(e));
  assert.equal(e.code, "NOT_FOUND");
  assert.equal(e.message, `node '${id}' not found`);
  assert.deepEqual(e.details, { field: "node", constraint: "exists" });
  return true;
};

/** `times` diag.echo jobs fail on node `id` (the only node), each counted against it. */
async function failOn(x: Harness, id: string, times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    const j = await x.coord.submit({ type: "diag.echo" });
    await x.settle();
    const t = x.dispatcher.last(j.id);
    assert.equal(t.node, id);
    await x.coord.reportFailed({ node_id: id, job_id: j.id, token: t.task.token, error: { code: "GPU_ERROR", message: "Xid 79" }, retryable: false });
  }
  await x.settle();
}

const countersOf = async (x: Harness, id: string) => (await x.store.nodeFailures()).filter((f) => f.node_id === id);

describe("unblock", () => {
  it("answers NOT_FOUND for a node id the farm does not know, and changes nothing", async () => {
    const x = await h();
    await x.heartbeat({ id: "gpu-01" });
    await failOn(x, "gpu-01", 1);
    await assert.rejects(x.coord.unblock("gpu-10"), notFound("gpu-10"));
    await assert.rejects(x.coord.unblock("gpu-10", "diag.echo"), notFound("gpu-10"));
    assert.equal((await countersOf(x, "gpu-01")).length, 1, "the real node's counter is untouched");
  });

  it("unblocks a live node that has no blocklist (nothing to lift, no error)", async () => {
    const x = await h();
    await x.heartbeat({ id: "a" });
    await x.coord.unblock("a");
    assert.deepEqual(x.coord.nodes().find((n) => n.node_id === "a")!.blocklisted, {});
  });

  it("unblocks a blocklisted node that is offline now; it comes back unblocked", async () => {
    const x = await h({ config: { blocklist_threshold: 2, max_attempts: 5 } });
    await x.heartbeat({ id: "bad" });
    await failOn(x, "bad", 2);
    assert.deepEqual(Object.keys(x.coord.nodes().find((n) => n.node_id === "bad")!.blocklisted), ["diag.echo"]);
    await x.coord.nodeLost("bad", "left the mesh");
    assert.equal(x.coord.nodes().length, 0);
    await x.coord.unblock("bad");
    assert.deepEqual(await countersOf(x, "bad"), []);
    await x.heartbeat({ id: "bad" });
    assert.deepEqual(x.coord.nodes().find((n) => n.node_id === "bad")!.blocklisted, {});
    const j = await x.coord.submit({ type: "diag.echo" });
    await x.settle();
    assert.equal(x.dispatcher.last(j.id).node, "bad", "it takes work again");
  });

  it("after a coordinator restart, a node only the store remembers (failure counters, offline) is unblockable; a typo is still NOT_FOUND", async () => {
    const first = await h({ config: { blocklist_threshold: 3, max_attempts: 5 } });
    await first.heartbeat({ id: "flaky" });
    await failOn(first, "flaky", 1); // below the threshold: counted, not blocklisted
    await first.shutdown();
    const x = await h({ dir: first.dir, config: { blocklist_threshold: 3, max_attempts: 5 } });
    assert.equal(x.coord.nodes().length, 0, "the restarted coordinator has not heard from it");
    await assert.rejects(x.coord.unblock("flakey"), notFound("flakey"));
    assert.equal((await countersOf(x, "flaky")).length, 1);
    await x.coord.unblock("flaky", "diag.echo");
    assert.deepEqual(await countersOf(x, "flaky"), []);
  });
});
