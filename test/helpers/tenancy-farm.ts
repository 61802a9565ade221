/**
 * An embedded farm with auth on and four keys (alice and bob with generate+read, a read-only
 * dashboard key, an admin), for the tests about keys and tenancy: each test file names its
 * plugins (a fixture folder, or the built-in ones), its link secret if any, and may add agent
 * settings or any other config. Stopped (and its data folder removed) by `stop`.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../../core/config/load.ts";
import { startFarm, type FarmHandle } from "../../mesh/roles.ts";
import { silentLogger } from "../../core/logger.ts";
import { hashKey } from "../../api/auth.ts";
import { deepMerge } from "./embedded-farm.ts";

export const TENANT_KEYS = {
  alice: "alice-key-0123456789",
  bob: "bob-key-0123456789",
  admin: "admin-key-0123456789",
  reader: "reader-key-0123456789",
};
export const as = (k: string) => ({ authorization: `Bearer ${k}` });

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../fixtures");

export interface TenancyFarm {
  farm: FarmHandle;
  url: string;
  dir: string;
  stop(): Promise<void>;
}

export async function startTenancyFarm(opts: {
  /** Folder under test/fixtures holding the plugins; none: the built-in plugins. */
  fixture?: string;
  /** The plugins the agent loads. */
  plugins: string[];
  /** api.outputs.link_secret; none: the process's own key (API and coordinator in one process). */
  linkSecret?: string;
  tmpPrefix: string;
  agent?: Record<string, unknown>;
  /** Further config, merged over the defaults here (e.g. a webhooks block). */
  config?: Record<string, unknown>;
}): Promise<TenancyFarm> {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), opts.tmpPrefix)));
  const base: Record<string, unknown> = {
    mode: "embedded",
    log_level: "silent",
    paths: { data_dir: dir },
    agent: { plugins: opts.plugins, telemetry_interval_ms: 300, cancel_grace_ms: 300, drain_timeout_ms: 1000, ...opts.agent },
    coordinator: { sweep_interval_ms: 200 },
    api: {
      port: 0,
      rate_limits: { enabled: false },
      ...(opts.linkSecret ? { outputs: { link_secret: opts.linkSecret, link_ttl_s: 600 } } : {}),
      auth: {
        enabled: true,
        keys: [
          { name: "alice", sha256: hashKey(TENANT_KEYS.alice), scopes: ["generate", "read"] },
          { name: "bob", sha256: hashKey(TENANT_KEYS.bob), scopes: ["generate", "read"] },
          { name: "dashboard", sha256: hashKey(TENANT_KEYS.reader), scopes: ["read"] },
          { name: "ops", sha256: hashKey(TENANT_KEYS.admin), scopes: ["admin"] },
        ],
      },
    },
  };
  const config = loadConfig({ file: null, env: {}, overrides: deepMerge(base, opts.config ?? {}) });
  const farm = await startFarm(config, ["api", "coordinator", "agent"], {
    logger: silentLogger,
    ...(opts.fixture ? { pluginsDir: path.join(FIXTURES, opts.fixture) } : {}),
  });
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
