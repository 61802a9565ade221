/**
 * POST /api/v1/farm/nodes/:node_id/unblock with a node id the farm does not know answers
 * 404 NOT_FOUND in the error envelope, as drain does (it answered 200 and lifted nothing,
 * so a typo looked done), and farmctl unblock prints that error and exits non-zero. A node
 * the farm knows is still unblocked (200).
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { startEmbeddedFarm, type TestFarm } from "../helpers/embedded-farm.ts";
import { http } from "../helpers/http.ts";
import { assertEnvelope } from "./api-fixtures.ts";

const run = promisify(execFile);
let farm: TestFarm;
beforeAll(async () => {
  farm = await startEmbeddedFarm({ api: { rate_limits: { enabled: false } } });
});
afterAll(async () => {
  await farm?.destroy();
});

/** `s` matched literally inside a RegExp (node ids may hold dots). */
const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

const farmctl = (args: string[]) =>
  run(process.execPath, ["--import", "tsx", "cli/farmctl.ts", ...args, "--url", farm.url]).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

test("unblocking an unknown node is a 404 naming it, with or without ?type=, like drain", async () => {
  const ghost = `${farm.nodeId}-typo`;
  for (const q of ["", "?type=diag.echo"]) {
    const r = assertEnvelope(await http(farm.url, "POST", `/api/v1/farm/nodes/${ghost}/unblock${q}`), 404, "NOT_FOUND", "node");
    assert.equal(r.constraint, "exists");
  }
  const body = (await http(farm.url, "POST", `/api/v1/farm/nodes/${ghost}/unblock`)).body as { message: string };
  assert.equal(body.message, `node '${ghost}' not found`);
  const drain = (await http(farm.url, "POST", `/api/v1/farm/nodes/${ghost}/drain`)).body as { code: string; details: unknown };
  assert.deepEqual(
    { code: drain.code, details: drain.details },
    { code: "NOT_FOUND", details: { field: "node", constraint: "exists" } },
    "the same answer as drain",
  );
});

test("farmctl unblock of an unknown node prints the 404 and exits non-zero; a known node is unblocked", async () => {
  const ghost = `${farm.nodeId}-typo`;
  const bad = await farmctl(["unblock", ghost]);
  assert.equal(bad.code, 1, JSON.stringify(bad));
  assert.equal(bad.stdout, "");
  assert.match(bad.stderr, new RegExp(`404 NOT_FOUND: node '${literal(ghost)}' not found`));
  // The farm's own agent is known once its first heartbeat reached the coordinator.
  const deadline = Date.now() + 30_000;
  const listed = async () => ((await http(farm.url, "GET", "/api/v1/farm/nodes")).body as { nodes: { node_id: string }[] }).nodes;
  while (!(await listed()).some((n) => n.node_id === farm.nodeId)) {
    assert.ok(Date.now() < deadline, "the farm's agent never registered");
    await new Promise((r) => setTimeout(r, 50));
  }
  const ok = await http(farm.url, "POST", `/api/v1/farm/nodes/${farm.nodeId}/unblock`);
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal((ok.body as { node_id: string }).node_id, farm.nodeId);
  const fine = await farmctl(["unblock", farm.nodeId]);
  assert.equal(fine.code, 0, JSON.stringify(fine));
  assert.match(fine.stdout, new RegExp(`unblocked ${literal(farm.nodeId)}`));
});
