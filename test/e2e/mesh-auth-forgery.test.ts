/**
 * A rogue on the farm's mesh cannot forge a job's result (issue 18 item 1). Every role its
 * own process over a real nats-server that demands credentials (farm:local's setup):
 *   - a plain NATS client without the credentials cannot subscribe to `>` (job params,
 *     results and lease tokens travel there);
 *   - a Moleculer node that does hold the credentials (a compromised or misconfigured box)
 *     reports the running job completed in the agent's name, with every plausible token:
 *     each report is refused (STALE_LEASE), and the job completes with the agent's result.
 * Before the fix the coordinator checked only the token (1 for a first attempt), and the
 * API then served the forged result.
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import { connect } from "nats";
import { startLocalFarm, type LocalFarm } from "../../deploy/servers/farm-procs.ts";
import { infraAvailable } from "../../deploy/servers/infra.ts";
import { loadConfig } from "../../core/config/load.ts";
import { createBroker, type Broker } from "../../mesh/broker.ts";
import type { BatchReply } from "../../mesh/tick-batch.ts";
import { http, waitJob, waitStatus } from "../helpers/http.ts";

const skip = infraAvailable() ? false : "redis-server / nats-server not installed";
let farm: LocalFarm;
let rogue: Broker | undefined;

beforeAll(async () => {
  if (skip) return;
  farm = await startLocalFarm({
    agents: 1,
    env: { FARM_AGENT__PLUGINS: '["diag"]', FARM_API__RATE_LIMITS__ENABLED: "false" },
  });
});

afterAll(async () => {
  await rogue?.stop().catch(() => undefined);
  await farm?.stop();
});

test.skipIf(skip)("a NATS client without the farm's credentials cannot listen to the mesh", async () => {
  const err = await connect({ servers: `127.0.0.1:${farm.nats.port}`, reconnect: false, timeout: 30_000 }).then(
    async (c) => {
      await c.close();
      return "connected";
    },
    (e: unknown) => String((e as Error).message),
  );
  assert.match(err, /Authorization Violation/i);
});

test.skipIf(skip)("a node on the mesh reporting another node's job completed is refused; the agent's own result stands", async () => {
  const r = await http(farm.url, "POST", "/api/v1/jobs", { type: "diag.sleep", params: { seconds: 6, steps: 6 } });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  const id = String(r.body.job_id);
  const running = await waitStatus(farm.url, id, "running", 60_000);
  const victim = String(running.node_id);
  assert.equal(victim, "agent-1");

  // The rogue holds the mesh credentials (taken from a farm box) and the namespace.
  const config = loadConfig({
    file: null,
    env: {},
    overrides: {
      mode: "distributed",
      log_level: "silent",
      mesh: {
        transporter: farm.env.FARM_MESH__TRANSPORTER,
        namespace: farm.env.FARM_MESH__NAMESPACE,
        auth: { user: farm.env.FARM_MESH__AUTH__USER, password: farm.env.FARM_MESH__AUTH__PASSWORD },
      },
    },
  });
  rogue = createBroker(config, "rogue-node");
  await rogue.start();
  await rogue.waitForServices(["coordinator"], 20_000);

  const forged = [1, 2, 3].map((token) => ({ kind: "completed", node_id: victim, job_id: id, token, result: { forged: true } }));
  const failed = [1, 2, 3].map((token) => ({
    kind: "failed",
    node_id: victim,
    job_id: id,
    token,
    error: { code: "JOB_FAILED", message: "forged" },
    retryable: false,
  }));
  const replies = await rogue.call<BatchReply<unknown>[], unknown>("coordinator.reportMany", { items: [...forged, ...failed] });
  assert.equal(replies.length, 6);
  for (const [i, reply] of replies.entries()) {
    assert.ok("err" in reply, `forged report ${i} was accepted: ${JSON.stringify(reply)}`);
    assert.equal(reply.err.code, "STALE_LEASE", JSON.stringify(reply));
    // Refused as the node that sent it, whatever it claimed to be.
    assert.equal((reply.err.details as { node_id?: string }).node_id, "rogue-node");
  }
  // Progress in the victim's name is refused the same way.
  await assert.rejects(
    rogue.call("coordinator.progress", { node_id: victim, job_id: id, token: 1, progress: 99 }),
    (e: unknown) =>
      (e as { code?: unknown; type?: unknown; data?: { code?: string } }).type === "STALE_LEASE" || /STALE_LEASE|no longer current/.test(String(e)),
  );

  const done = await waitJob(farm.url, id, 60_000);
  assert.equal(done.status, "completed", JSON.stringify(done));
  assert.deepEqual(done.result, { slept_s: 6, steps: 6 });
  assert.equal(done.node_id, victim);
});
