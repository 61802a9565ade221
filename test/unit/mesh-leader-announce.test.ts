/**
 * A coordinator elected mid-run (HA, coordinator/leader-term.ts) creates its `coordinator`
 * service on a running broker. Moleculer 0.14 announces such a service 1 s later (a debounced
 * INFO), so its `coordinator.started` broadcast used to reach agents before they knew the
 * service, and their answering heartbeat found nobody. Here the order of events is checked,
 * not their timing: an agent receiving `coordinator.started` already routes to the new
 * service; after a term ends, a message sent next finds the service gone; and an agent
 * reports at once when a coordinator service appears on a new node, not on other changes.
 * Two brokers in one process over Moleculer's Fake transporter.
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import Moleculer from "moleculer";
import { announceServicesNow } from "../../mesh/coordinator-service.ts";
import { agentService } from "../../mesh/agent-service.ts";
import type { Agent } from "../../node-agent/agent.ts";

const ns = `announce-${process.pid}`;
const mk = (nodeID: string) =>
  new Moleculer.ServiceBroker({ namespace: ns, nodeID, transporter: "Fake", logger: false, requestTimeout: 5000, skipProcessEventRegistration: true });
const coord = mk("coord-a");
const other = mk("coord-b");
const agentBroker = mk("agent-1");
const heartbeats: string[] = [];
/** The leader epochs the agent was told to note. */
const epochs: unknown[] = [];
/** What the agent's registry said about `coordinator.heartbeat` when each `coordinator.started` arrived. */
const seenAtStarted: string[][] = [];

const endpoints = (b: Moleculer.ServiceBroker): string[] => {
  const registry = (b as unknown as { registry: { getActionEndpoints(a: string): { endpoints: { id: string }[] } | undefined } }).registry;
  return (registry.getActionEndpoints("coordinator.heartbeat")?.endpoints ?? []).map((e) => e.id).sort();
};

beforeAll(async () => {
  // The agent's two calls from these events: the leader epoch is noted, then a report sent.
  const fakeAgent = { heartbeatNow: async () => void heartbeats.push("beat"), noteLeaderEpoch: (e: unknown) => void epochs.push(e) } as unknown as Agent;
  const schema = agentService(fakeAgent);
  const events = schema.events as Record<string, (...a: unknown[]) => unknown>;
  const onStarted = events["coordinator.started"]!;
  // The real agent service, with the moment each broadcast lands recorded beside it.
  // One declared parameter: Moleculer passes a handler of arity 1 the event's context, as it does the real one.
  events["coordinator.started"] = function (this: unknown, ctx: unknown) {
    seenAtStarted.push(endpoints(agentBroker));
    return onStarted.call(this, ctx);
  };
  agentBroker.createService(schema);
  await Promise.all([coord.start(), other.start(), agentBroker.start()]);
  // Every node knows the agent's service (and so its event listeners) before the tests begin.
  await Promise.all([coord.waitForServices("agent", 5000, 10), other.waitForServices("agent", 5000, 10)]);
  await new Promise((r) => setTimeout(r, 100));
});
afterAll(async () => {
  await Promise.all([agentBroker.stop(), other.stop(), coord.stop()]);
});

const coordinatorSchema = { name: "coordinator", actions: { heartbeat: () => ({ stale: [] }) } };

test("a term's service, announced now, is known to agents before its coordinator.started broadcast arrives", async () => {
  heartbeats.length = 0;
  coord.createService(coordinatorSchema);
  await announceServicesNow(coord, "coordinator", true);
  await coord.broadcast("coordinator.started", { node_id: "coord-a", epoch: 1 }, "agent");
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(seenAtStarted.at(-1), ["coord-a"], "the agent did not know the new coordinator's service when its broadcast arrived");
  // One report for the service appearing (the INFO), one for the broadcast: nothing waits for a telemetry tick.
  assert.ok(heartbeats.length >= 2, `agent reported ${heartbeats.length} times`);
  assert.equal(epochs.at(-1), 1, `the agent did not note the new term's epoch: ${JSON.stringify(epochs)}`);
});

test("when a term ends, its service's removal reaches agents before anything sent after it", async () => {
  const svc = coord.getLocalService("coordinator")!;
  await coord.destroyService(svc);
  await announceServicesNow(coord, "coordinator", false);
  await coord.broadcast("coordinator.started", { node_id: "coord-a", epoch: 1 }, "agent");
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(seenAtStarted.at(-1), [], "the agent still routed to the ended term's service");
});

test("an agent reports at once when a coordinator service appears on another node, and not on unrelated changes", async () => {
  heartbeats.length = 0;
  other.createService({ name: "unrelated", actions: { x: () => 1 } });
  await announceServicesNow(other, "unrelated", true);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(heartbeats.length, 0, "an unrelated service change made the agent report");
  other.createService(coordinatorSchema);
  await announceServicesNow(other, "coordinator", true);
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(endpoints(agentBroker), ["coord-b"]);
  assert.equal(heartbeats.length, 1, "the agent did not report to the new coordinator at once (or reported twice)");
});
