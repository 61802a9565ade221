/**
 * A stalled agent that comes back is told to drop the jobs that were re-queued meanwhile
 * (issue 15 item 3): the coordinator's heartbeat answer lists its stale leases
 * (coordinator-silent-node.test.ts), and the agent's mesh reporter hands each one to the
 * agent's cancel (mesh/roles.ts wires onStale to Agent.cancelTask, tested in
 * agent-core.test.ts). Here the reporter's side, over a stand-in broker.
 */
import assert from "node:assert/strict";
import { test } from "vitest";
import type { Broker } from "../../mesh/broker.ts";
import { meshReporter } from "../../mesh/agent-service.ts";
import { silentLogger } from "../../core/logger.ts";

const fakeBroker = (answer: unknown) => {
  const calls: { action: string; params: unknown }[] = [];
  const broker = {
    call: async (action: string, params: unknown) => {
      calls.push({ action, params });
      return answer;
    },
  } as unknown as Broker;
  return { broker, calls };
};
const beat = {
  node_id: "a",
  leases: [
    { job_id: "j1", token: 3 },
    { job_id: "j2", token: 1 },
  ],
} as unknown as Parameters<ReturnType<typeof meshReporter>["heartbeat"]>[0];

test("the heartbeat answer's stale leases are handed to onStale, each once, with their tokens", async () => {
  const { broker, calls } = fakeBroker({ stale: [{ job_id: "j1", token: 3 }] });
  const dropped: string[] = [];
  const r = meshReporter(broker, silentLogger, { onStale: (id, token) => dropped.push(`${id}:${token}`) });
  await r.heartbeat(beat);
  assert.deepEqual(
    calls.map((c) => c.action),
    ["coordinator.heartbeat"],
  );
  assert.deepEqual(dropped, ["j1:3"]);
});

test("no answer (the coordinator unreachable) or an empty one drops nothing", async () => {
  const dropped: string[] = [];
  for (const answer of [undefined, {}, { stale: [] }]) {
    const r = meshReporter(fakeBroker(answer).broker, silentLogger, { onStale: (id) => dropped.push(id) });
    await r.heartbeat(beat);
  }
  const failing = {
    call: async () => {
      throw new Error("no coordinator");
    },
  } as unknown as Broker;
  await meshReporter(failing, silentLogger, { onStale: (id) => dropped.push(id) }).heartbeat(beat);
  assert.deepEqual(dropped, []);
});
