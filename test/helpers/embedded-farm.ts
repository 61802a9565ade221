/** An embedded farm (api + coordinator + agent in this process) on a free port with a temp data dir. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "../../core/config/load.ts";
import { startFarm, type FarmHandle } from "../../mesh/roles.ts";
import { silentLogger } from "../../core/logger.ts";

export interface TestFarm extends FarmHandle {
  url: string;
  dataDir: string;
  /** Stop and delete the data dir. */
  destroy(): Promise<void>;
}

export async function startEmbeddedFarm(overrides: Record<string, unknown> = {}, dataDir?: string): Promise<TestFarm> {
  const dir = dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "nb-embedded-"));
  const config = loadConfig({
    file: null,
    env: {},
    overrides: deepMerge(
      {
        mode: "embedded",
        log_level: "silent",
        paths: { data_dir: dir },
        api: { port: 0 },
        agent: { plugins: ["diag"], telemetry_interval_ms: 300, cancel_grace_ms: 300, drain_timeout_ms: 1000 },
        coordinator: { sweep_interval_ms: 200 },
      },
      overrides,
    ),
  });
  const farm = await startFarm(config, ["api", "coordinator", "agent"], { logger: silentLogger });
  return {
    ...farm,
    url: farm.url!,
    dataDir: dir,
    destroy: async () => {
      await farm.stop({ drainMs: 500 });
      if (!dataDir) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] =
      v && typeof v === "object" && !Array.isArray(v) && cur && typeof cur === "object" && !Array.isArray(cur)
        ? deepMerge(cur as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}
