/**
 * A dispatch that races an agent's service announcement (its heartbeat reached the coordinator
 * first, just after start-up) waits for the announcement and goes through once, instead of
 * failing and re-queuing the job; a node that never announces still fails. Two brokers in one
 * process over Moleculer's Fake transporter.
 */
import { afterAll, test } from "vitest";
import assert from "node:assert/strict";
import Moleculer from "moleculer";
import { meshDispatcher } from "../../mesh/coordinator-service.ts";
import type { DispatchTask } from "../../core/mesh-contract.ts";

const ns = `late-${process.pid}`;
const mk = (nodeID: string) =>
  new Moleculer.ServiceBroker({ namespace: ns, nodeID, transporter: "Fake", logger: false, requestTimeout: 5000, skipProcessEventRegistration: true });
const coord = mk("coord");
const agent = mk("agent-late");
afterAll(async () => {
  await agent.stop();
  await coord.stop();
});

const task = (job_id: string): DispatchTask => ({ job_id, type: "diag.echo", params: {}, gpu_index: null, attempt: 1, token: 1, lease_ms: 10_000 });

test("a dispatch sent before the agent's service is registered waits for it and is delivered once", async () => {
  await Promise.all([coord.start(), agent.start()]);
  const received: string[] = [];
  setTimeout(() => {
    agent.createService({
      name: "agent",
      actions: { startMany: (ctx) => (ctx.params as { items: DispatchTask[] }).items.map((t) => (received.push(t.job_id), { ok: null })) },
    });
  }, 300);
  await meshDispatcher(coord, { registrationWaitMs: 4000 }).startTask("agent-late", task("j1"));
  assert.deepEqual(received, ["j1"]);
});

test("a node that never registers the service still fails the dispatch", async () => {
  const t0 = Date.now();
  await assert.rejects(meshDispatcher(coord, { registrationWaitMs: 500 }).startTask("nobody", task("j2")), /not found on 'nobody' node/);
  assert.ok(Date.now() - t0 >= 450, "it waited for the registration before giving up");
});
