/**
 * Liveness over real processes (issue 15 items 3-4): nats-server (with its monitoring
 * endpoint), redis-server, s3rver, every role its own process, deploy defaults for the
 * job lease (30 s) and the mesh heartbeat (1 s / 2 s timeout).
 *   - An agent killed and restarted at once under the same node id (a supervisor's
 *     restart): its old process's job is re-queued at once, not when its 30 s lease
 *     expires (it was, before: the mesh saw the node come back before it saw it go, so no
 *     "node lost" came), and the new process's first dispatches are not rejected.
 *   - A plugin that holds the agent's main thread 4 s (no heartbeat can leave meanwhile):
 *     the coordinator notices the silence, sees the agent still connected to NATS, and the
 *     job completes once, where it ran.
 * Assertions are on events and reasons, not on times: the times are the benches'.
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import type { LocalFarm } from "../../deploy/servers/farm-procs.ts";
import { waitJob } from "../helpers/http.ts";
import { jobHistory, showHistory as show, silenceNoticed, startLivenessFarm, submitJob, waitStarted } from "../helpers/liveness-farm.ts";

let farm: LocalFarm;

beforeAll(async () => {
  farm = await startLivenessFarm();
});

afterAll(async () => {
  await farm?.stop();
});

const submit = (type: string, params: Record<string, unknown>) => submitJob(farm, type, params);
const history = (id: string) => jobHistory(farm, id);

test("an agent killed and restarted at once under the same id: its job is re-queued without waiting for the lease, and the new process takes work", async () => {
  const id = await submit("diag.sleep", { seconds: 4, steps: 8 });
  const running = await waitStarted(farm, id);
  const idx = farm.agents.findIndex((a) => a.name === running.node_id);
  const victim = farm.agents[idx]!;
  await victim.kill9();
  farm.agents[idx] = farm.startRole(victim.name, "agent");
  const job = await waitJob(farm.url, id, 60_000);
  const h = await history(id);
  assert.equal(job.status, "completed", show(h));
  const requeue = h.filter((e) => e.event === "requeued").at(-1);
  assert.ok(requeue, `re-queued: ${show(h)}`);
  // Either signal may come first: the old connection's close (NATS /connz) or the new process's report.
  assert.match(String(requeue.reason), /NATS connection is closed|restarted and its new process does not hold the job/, show(h));
  assert.equal(h.filter((e) => e.event === "completed").length, 1, show(h));

  // The restarted process takes work: jobs sent while it is being (re)discovered are not
  // rejected by the mesh on its behalf ("Request is rejected": the old process's silence
  // was counted against it).
  await farm.waitForAgents(2, 120_000);
  const ids = await Promise.all(Array.from({ length: 8 }, () => submit("diag.sleep", { seconds: 0.5, steps: 1 })));
  for (const j of ids) {
    const done = await waitJob(farm.url, j, 60_000);
    const hj = await history(j);
    assert.equal(done.status, "completed", show(hj));
    assert.equal(hj.filter((e) => /Request is rejected/.test(e.reason ?? "")).length, 0, show(hj));
  }
});

test("a plugin holding the agent's main thread 4 s is silent on the mesh but not dead: its job completes once, where it ran", async () => {
  await farm.waitForAgents(2, 120_000);
  const id = await submit("diag.sleep", { seconds: 1, steps: 2, block_ms: 4000 });
  const job = await waitJob(farm.url, id, 60_000);
  const h = await history(id);
  // A first dispatch the agent's broker refused ("Service ... is not found": the mesh had
  // not registered the agent's service yet, seconds on a loaded machine) reached nobody and
  // moved the job: not a run. Every other dispatch or re-queue is.
  const refused = h.filter((e) => e.event === "requeued" && /failed: Service '[^']+' is not found/.test(e.reason ?? ""));
  const node = String(h.filter((e) => e.event === "dispatched").at(-1)?.node_id);
  assert.equal(job.status, "completed", show(h));
  assert.equal(job.node_id, node, show(h));
  assert.equal(job.attempts, 1, show(h));
  assert.equal(h.filter((e) => e.event === "dispatched").length - refused.length, 1, show(h));
  assert.equal(h.filter((e) => e.event === "requeued").length - refused.length, 0, show(h));
  // The mesh heartbeat did stop (Moleculer's timer runs on that thread); NATS kept the connection.
  const seen = silenceNoticed(farm, node);
  assert.ok(seen.length > 0, `the coordinator did not notice the silence:\n${farm.coordinator.output().slice(-3000)}`);
  assert.match(seen.at(-1)!, /"nats_connection":"connected"/);
});
