/**
 * An embedded farm with auth on and three keys (alice and bob with generate+read, an admin),
 * for the tenancy tests: each test file names its fixture plugin and link secret, and may add
 * agent settings. Stopped (and its data folder removed) by `stop`.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../../core/config/load.ts";
import { startFarm, type FarmHandle } from "../../mesh/roles.ts";
import { silentLogger } from "../../core/logger.ts";
import { hashKey } from "../../api/auth.ts";

export const TENANT_KEYS = { alice: "alice-key-0123456789", bob: "bob-key-0123456789", admin: "admin-key-0123456789" };
export const as = (k: string) => ({ authorization: `Bearer ${k}` });

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../fixtures");

export interface TenancyFarm {
  farm: FarmHandle;
  url: string;
  dir: string;
  stop(): Promise<void>;
}

export async function startTenancyFarm(opts: {
  /** Folder under test/fixtures holding the plugin, and the plugin's name. */
  fixture: string;
  plugin: string;
  linkSecret: string;
  tmpPrefix: string;
  agent?: Record<string, unknown>;
}): Promise<TenancyFarm> {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), opts.tmpPrefix)));
  const config = loadConfig({
    file: null,
    env: {},
    overrides: {
      mode: "embedded",
      log_level: "silent",
      paths: { data_dir: dir },
      agent: { plugins: [opts.plugin], telemetry_interval_ms: 300, ...opts.agent },
      coordinator: { sweep_interval_ms: 200 },
      api: {
        port: 0,
        rate_limits: { enabled: false },
        outputs: { link_secret: opts.linkSecret, link_ttl_s: 600 },
        auth: {
          enabled: true,
          keys: [
            { name: "alice", sha256: hashKey(TENANT_KEYS.alice), scopes: ["generate", "read"] },
            { name: "bob", sha256: hashKey(TENANT_KEYS.bob), scopes: ["generate", "read"] },
            { name: "ops", sha256: hashKey(TENANT_KEYS.admin), scopes: ["admin"] },
          ],
        },
      },
    },
  });
  const farm = await startFarm(config, ["api", "coordinator", "agent"], { logger: silentLogger, pluginsDir: path.join(FIXTURES, opts.fixture) });
  return {
    farm,
    url: farm.url!,
    dir,
    async stop() {
      await farm.stop({ drainMs: 500 });
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
