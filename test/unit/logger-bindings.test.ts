/**
 * A child logger that binds a key its parent already bound (role: "coordinator" by the role
 * layer and again by the coordinator) wrote the key twice in one JSON line, which many log
 * parsers refuse. The lines are read from a real process's stdout/stderr, as parsers would.
 */
import { test } from "vitest";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import path from "node:path";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "../..");

/** The keys of a JSON object line in the order written, duplicates kept (JSON.parse drops them). */
function rawKeys(line: string): string[] {
  return [...line.matchAll(/"([a-z_]+)":/g)].map((m) => m[1]!);
}

test("a key bound again is written once, with its newest value", async () => {
  const { stdout, stderr } = await run(path.join(root, "node_modules/.bin/tsx"), ["test/fixtures/logger/bind-twice.ts"], { cwd: root });
  const out = stdout.trim().split("\n");
  const err = stderr.trim().split("\n");
  assert.equal(out.length, 3, stdout);
  assert.equal(err.length, 1, stderr);
  for (const line of [...out, ...err]) {
    const keys = rawKeys(line);
    assert.deepEqual(keys, [...new Set(keys)], `duplicate key in ${line}`);
  }
  const [same, changed, parent] = out.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual({ ...same, t: undefined }, { level: "info", t: undefined, service: "farm", role: "coordinator", n: 1, msg: "same value" });
  assert.equal(changed!.epoch, 2);
  assert.equal(changed!.role, "coordinator");
  assert.equal(changed!.service, "farm");
  assert.equal(parent!.role, "coordinator");
  assert.equal(parent!.epoch, undefined);
  const warned = JSON.parse(err[0]!) as Record<string, unknown>;
  assert.equal(warned.role, "agent");
  assert.equal(warned.service, "farm");
  assert.equal(warned.level, "warn");
});
