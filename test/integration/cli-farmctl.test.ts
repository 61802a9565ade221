/**
 * farmctl against a real embedded farm: `submit --wait` streams progress (stderr) while the
 * job runs and prints the finished job (stdout); tables fit the terminal width.
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import { startEmbeddedFarm, type TestFarm } from "../helpers/embedded-farm.ts";
import { execFile } from "node:child_process";
import { runFarmctl, type FarmctlResult } from "../helpers/farmctl.ts";
import { promisify } from "node:util";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { table } from "../../cli/table.ts";

let farm: TestFarm;
beforeAll(async () => {
  farm = await startEmbeddedFarm({ agent: { plugins: ["diag"] } });
});
afterAll(async () => {
  await farm?.destroy();
});

/** farmctl as its own process, as an operator runs it, against this farm. */
function run(args: string[]): Promise<FarmctlResult> {
  return runFarmctl([...args, "--url", farm.url]);
}

test("submit --wait shows progress while the job runs, then the finished job", async () => {
  const r = await run(["submit", "diag.sleep", "--params", '{"seconds":1.5,"steps":5}', "--wait", "--json"]);
  assert.equal(r.code, 0, r.err);
  const job = JSON.parse(r.out) as { status: string; job_id: string };
  assert.equal(job.status, "completed");
  const lines = r.err.trim().split("\n");
  const pcts = lines.map((l) => Number(/^\[\s*(\d+)%\]/.exec(l)?.[1] ?? NaN)).filter((n) => !Number.isNaN(n));
  assert.ok(
    pcts.some((p) => p > 0 && p < 100),
    `intermediate progress shown: ${r.err}`,
  );
  assert.equal(pcts[pcts.length - 1], 100);
  assert.ok(
    pcts.every((p, i) => i === 0 || p >= pcts[i - 1]!),
    `progress only grows: ${pcts.join(",")}`,
  );
});

test("submit --wait on a failing job exits 1 and says why", async () => {
  const r = await run(["submit", "diag.fail", "--params", '{"message":"boom","code":"VALIDATION_ERROR"}', "--wait"]);
  assert.equal(r.code, 1);
  assert.match(r.err, /failed: boom/);
  assert.match(r.out, /failed/);
});

test("tables shrink their widest columns to fit the width and cut cells with …", () => {
  const rows = [
    ["node-a", "a very long list of job types that would wrap the terminal", "x"],
    ["node-b", "short", "y"],
  ];
  const wide = table(["NODE", "JOB TYPES", "Z"], rows, Number.POSITIVE_INFINITY);
  assert.ok(wide.includes("a very long list of job types that would wrap the terminal"), "unlimited when piped");
  const fit = table(["NODE", "JOB TYPES", "Z"], rows, 40);
  for (const line of fit.split("\n")) assert.ok(line.length <= 40, `"${line}" is ${line.length} wide`);
  assert.match(fit, /a very long list of job type…/);
  assert.match(fit, /node-a/);
});

// Async on purpose: the farm answering farmctl runs in this process, so a sync exec would deadlock.
const exec = async (file: string, args: string[]) => (await promisify(execFile)(file, args, { encoding: "utf8" })).stdout;

test("farmctl packs as a package of its own that installs without the farm and talks to it", async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "nb-farmctl-pack-"));
  try {
    const tgz = (await exec(process.execPath, ["--import", "tsx", "scripts/pack-farmctl.ts", path.join(tmp, "out")])).trim().split("\n").pop()!;
    assert.match(tgz, /nano-banana-farmctl-\d+\.\d+\.\d+\.tgz$/);
    // --offline: the package has no dependencies, so nothing is fetched.
    await exec("npm", ["i", "-g", "--prefix", path.join(tmp, "prefix"), "--offline", "--no-audit", "--no-fund", tgz]);
    const bin = path.join(tmp, "prefix", "bin", "farmctl");
    const status = await exec(bin, ["status", "--url", farm.url]);
    assert.match(status, /NODES \(1\)/);
    const json = JSON.parse(await exec(bin, ["nodes", "--json", "--url", farm.url])) as { nodes: { node_id: string }[] };
    assert.equal(json.nodes.length, 1);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
