/**
 * What a new operator met in a first trial of farmctl (session 7) against a real embedded
 * farm: drain / undrain said "draining": false (the agent's last report) in a dump of the
 * whole node; a missing option value printed a TypeError; a bad or unreachable address did
 * not say how to choose another; `submit --wait` printed a bare "[  0%]" line.
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import net from "node:net";
import { startEmbeddedFarm, type TestFarm } from "../helpers/embedded-farm.ts";
import { startTenancyFarm, TENANT_KEYS } from "../helpers/tenancy-farm.ts";
import { http, waitJob } from "../helpers/http.ts";
import { runFarmctl, type FarmctlResult } from "../helpers/farmctl.ts";

let farm: TestFarm;
beforeAll(async () => {
  farm = await startEmbeddedFarm({ agent: { plugins: ["diag"] } });
});
afterAll(async () => {
  await farm?.destroy();
});

/** farmctl as its own process; FARM_URL is the farm's unless `env` says otherwise. */
function run(args: string[], env: Record<string, string> = {}): Promise<FarmctlResult> {
  return runFarmctl(args, { FARM_URL: farm.url, FARM_API_KEY: "", ...env });
}

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

test("drain and undrain say the node's new state in one line, not the agent's stale report", async () => {
  const d = await run(["drain", farm.nodeId]);
  assert.equal(d.code, 0, d.err);
  assert.equal(d.out.trim(), `drained ${farm.nodeId}: draining (takes no new jobs)`);
  const u = await run(["undrain", farm.nodeId]);
  assert.equal(u.code, 0, u.err);
  assert.equal(u.out.trim(), `undrained ${farm.nodeId}: ready (takes new jobs)`);
  // --json still gives the whole answer, for scripts.
  const j = await run(["drain", farm.nodeId, "--json"]);
  assert.equal((JSON.parse(j.out) as { draining: boolean }).draining, true);
  await run(["undrain", farm.nodeId]);
});

test("a missing option value is a usage error (exit 2), without a TypeError", async () => {
  const r = await run(["unblock", farm.nodeId, "--type"]);
  assert.equal(r.code, 2);
  assert.match(r.err, /^farmctl: Option '--type <value>' argument missing/);
  assert.doesNotMatch(r.err, /TypeError|ERR_PARSE_ARGS/);
  assert.match(r.err, /usage: farmctl/);
});

test("an address that is not an http(s) URL is named with where it came from", async () => {
  const viaFlag = await run(["status", "--url", "notaurl"]);
  assert.equal(viaFlag.code, 2);
  assert.equal(viaFlag.err.trim(), "farmctl: --url 'notaurl' is not an http(s) URL (e.g. http://127.0.0.1:8000)");
  const viaEnv = await run(["status"], { FARM_URL: "127.0.0.1:8000" });
  assert.equal(viaEnv.code, 2);
  assert.match(viaEnv.err, /^farmctl: FARM_URL '127\.0\.0\.1:8000' is not an http\(s\) URL/);
});

test("an unreachable farm: the address, the cause, and how to name another", async () => {
  const url = `http://127.0.0.1:${await closedPort()}`;
  const r = await run(["status"], { FARM_URL: url });
  assert.equal(r.code, 1);
  assert.match(
    r.err,
    new RegExp(
      `^farmctl: cannot reach the farm at ${url.replace(/\./g, "\\.")} \\(.*ECONNREFUSED.*\\); is it running there\\? --url or FARM_URL name another address`,
    ),
  );
});

test("submit --wait: every progress line says something (no bare '[  0%]')", async () => {
  const r = await run(["submit", "diag.sleep", "--params", '{"seconds":1,"steps":2}', "--wait"]);
  assert.equal(r.code, 0, r.err);
  const lines = r.err.trim().split("\n");
  assert.ok(lines.length >= 2, r.err);
  for (const l of lines) assert.match(l, /^\[\s*\d+%\] \S/, `a bare progress line in:\n${r.err}`);
});

test("with API keys on, a 401 says how farmctl sends a key", async () => {
  const tf = await startTenancyFarm({ plugins: ["diag"], tmpPrefix: "nb-farmctl-auth-" });
  try {
    const none = await run(["status"], { FARM_URL: tf.url });
    assert.equal(none.code, 1);
    assert.match(none.err, /^farmctl: 401 UNAUTHORIZED: missing API key: .*; farmctl sends one given --api-key or FARM_API_KEY$/m);
    const wrong = await run(["status", "--api-key", "not-a-key-0123456789"], { FARM_URL: tf.url });
    assert.match(wrong.err, /^farmctl: 401 UNAUTHORIZED: unknown API key \(farmctl sent the key of --api-key \/ FARM_API_KEY\)$/m);
    const ok = await run(["status"], { FARM_URL: tf.url, FARM_API_KEY: TENANT_KEYS.reader });
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /^NODES \(1\)/);
  } finally {
    await tf.stop();
  }
});

test("cancel of a running job says the cancel was requested, then the job still running; the job ends cancelled", async () => {
  const sub = await run(["submit", "diag.sleep", "--params", '{"seconds":30,"steps":30}', "--json"]);
  const id = (JSON.parse(sub.out) as { job_id: string }).job_id;
  // Until it runs (deadline 60 s; 100 polls could pass with the job still queued on a loaded
  // machine, and a queued job's cancel answers "cancelled", not "cancel requested").
  for (const end = Date.now() + 60_000; ;) {
    const j = await http(farm.url, "GET", `/api/v1/jobs/${id}`);
    if (j.body.status === "running") break;
    assert.ok(Date.now() < end, `the job did not start: ${JSON.stringify(j.body)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const r = await run(["cancel", id]);
  assert.equal(r.code, 0, r.err);
  const [first, ...rest] = r.out.split("\n");
  assert.equal(first, `cancel requested: its node is stopping it (farmctl job ${id} shows when it has)`);
  assert.match(rest.join("\n"), /^status\s+running/m);
  assert.equal((await waitJob(farm.url, id, 60_000)).status, "cancelled");
  // Cancelling it again is the API's 409, said as such.
  const again = await run(["cancel", id]);
  assert.equal(again.code, 1);
  assert.match(again.err, /409 CONFLICT: job '.*' cannot go from cancelled to cancelled/);
});
