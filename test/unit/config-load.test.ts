import { test } from "vitest";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadConfig, ConfigError } from "../../core/config/load.ts";

const broken = 'mode: embedded\napi:\n  port: 8000\n   host: "127.0.0.1\n';

function tempConfig(text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "farm-config-"));
  const file = path.join(dir, "farm.yaml");
  fs.writeFileSync(file, text);
  return file;
}

test("a YAML syntax error is a ConfigError naming file, line and column", () => {
  const file = tempConfig(broken);
  assert.throws(
    () => loadConfig({ file, env: {} }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.ok(err.problems.length >= 1);
      assert.match(err.problems[0]!, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:3:9: YAML syntax error: `));
      assert.ok(
        err.problems.some((p) => p.startsWith(`${file}:5:1: YAML syntax error: Missing closing "quote`)),
        err.problems.join("\n"),
      );
      return true;
    },
  );
});

test("the farm exits 78 without a stack trace on a YAML syntax error (systemd does not restart-loop)", () => {
  const file = tempConfig(broken);
  const res = spawnSync(process.execPath, ["--import", "tsx", "cli/farm.ts"], {
    env: { ...process.env, FARM_CONFIG: file },
    encoding: "utf8",
    timeout: 60_000,
  });
  assert.equal(res.status, 78, res.stderr);
  assert.match(res.stderr, /invalid farm config:/);
  assert.match(res.stderr, /:3:9: YAML syntax error/);
  assert.doesNotMatch(res.stderr, /\n\s+at /, "no stack trace");
});

test("a valid file still loads and a schema problem still lists the key", () => {
  const ok = loadConfig({ file: tempConfig("mode: embedded\napi:\n  port: 9123\n"), env: {} });
  assert.equal(ok.api.port, 9123);
  assert.throws(() => loadConfig({ file: tempConfig("api:\n  port: abc\n"), env: {} }), /api\.port: expected integer, got "abc"/);
});
