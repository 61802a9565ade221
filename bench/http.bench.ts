/**
 * The front door under load, against an embedded farm in its own process (npm start's
 * configuration, rate limits off): a cheap endpoint at 100 concurrent clients (overhead),
 * and the full 7-stage prompt enhancement through HTTP (enhance plugin run as a farm job).
 *
 *   node --import tsx bench/http.bench.ts [--seconds 8]
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { spawnRole } from "../deploy/servers/farm-procs.ts";
import { freePort, waitForPort } from "../deploy/servers/infra.ts";
import { load, loadTable } from "./load.ts";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "8" } } });
const seconds = Number(values.seconds);
const port = await freePort();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nb-httpbench-"));
const farm = spawnRole("farm", "all", {
  FARM_MODE: "embedded",
  FARM_LOG_LEVEL: "error",
  FARM_API__PORT: String(port),
  FARM_PATHS__DATA_DIR: dir,
  FARM_API__RATE_LIMITS__ENABLED: "false",
  FARM_AGENT__PLUGINS: '["enhance","diag"]',
  FARM_AGENT__MAX_CONCURRENT_JOBS: "256",
});
try {
  await waitForPort(port, 60_000);
  const enhanceBody = JSON.stringify({ prompt: "woman singing in a studio", style: "Cinematic", platform: "YouTube (16:9)", enhancement_level: "full", include_negative: true });
  const enhance = (c: number, s: number) => load({ port, method: "POST", path: "/api/v1/enhance/prompt", body: enhanceBody, concurrency: c, seconds: s, ok: (st, t) => st === 200 && t.includes("enhanced_prompt") });
  const cheap = (c: number, s: number, perClientRate?: number) => load({ port, method: "GET", path: "/api/v1/enhance/styles", concurrency: c, seconds: s, perClientRate, ok: (st) => st === 200 });
  const health = (c: number, s: number, perClientRate?: number) => load({ port, method: "GET", path: "/health", concurrency: c, seconds: s, perClientRate, ok: (st) => st === 200 });
  await enhance(16, 2);
  await cheap(16, 1);
  const rows = [
    { label: "GET /api/v1/enhance/styles, closed loop (saturation)", ...(await cheap(100, seconds)) },
    { label: "GET /api/v1/enhance/styles, 100 clients x 20 req/s (open loop: overhead)", ...(await cheap(100, seconds, 20)) },
    { label: "GET /health, 100 clients x 20 req/s (open loop: overhead)", ...(await health(100, seconds, 20)) },
    { label: "POST /api/v1/enhance/prompt full 7 stages (a farm job)", ...(await enhance(1, seconds)) },
    { label: "POST /api/v1/enhance/prompt full 7 stages (a farm job)", ...(await enhance(32, seconds)) },
    { label: "POST /api/v1/enhance/prompt full 7 stages (a farm job)", ...(await enhance(100, seconds)) },
  ];
  console.log(loadTable(rows));
} finally {
  await farm.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
