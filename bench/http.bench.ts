/**
 * The front door under load, against an embedded farm in its own process (npm start's
 * configuration, rate limits off): a cheap endpoint at 100 concurrent clients (overhead),
 * and the full 7-stage prompt enhancement through HTTP (enhance plugin run as a farm job).
 * Saturation rows use autocannon, concurrency-1 and open-loop rows the node:http client
 * (see bench/load.ts). Enhancement requests rotate through 8 prompts x every style preset x every
 * platform, so nothing is served from a repeated input; every response is checked.
 *
 *   node --import tsx bench/http.bench.ts [--seconds 8]
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import YAML from "yaml";
import { PLATFORMS_FILE } from "../core/platforms.ts";
import { spawnRole } from "../deploy/servers/farm-procs.ts";
import { freePort, waitForPort } from "../deploy/servers/infra.ts";
import { cannon, load, loadTable } from "./load.ts";

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
const PROMPTS = [
  "woman singing in a studio",
  "a lighthouse in a winter storm",
  "two kids racing bikes downhill",
  "an old chef plating dessert",
  "neon city street at night in the rain",
  "a fox crossing a frozen lake",
  "astronaut repairing a satellite",
  "dancers on a rooftop at sunset",
];
// Every style preset and platform of the enhancer's data files.
const names = (file: string) => YAML.parse(fs.readFileSync(file, "utf8")) as Record<string, { name: string }[]>;
const STYLES = Object.values(names(path.join(import.meta.dirname, "../core/data/styles.yaml")))
  .flat()
  .map((x) => x.name);
const PLATFORMS = Object.values(names(PLATFORMS_FILE))
  .flat()
  .map((x) => x.name);
const enhanceBody = (i: number) =>
  JSON.stringify({
    prompt: PROMPTS[i % PROMPTS.length],
    style: STYLES[Math.floor(i / PROMPTS.length) % STYLES.length],
    platform: PLATFORMS[Math.floor(i / (PROMPTS.length * STYLES.length)) % PLATFORMS.length],
    enhancement_level: "full",
    include_negative: true,
  });
/** Every prompt x style x platform, in the order the autocannon connections take them. */
const BODIES = Array.from({ length: PROMPTS.length * STYLES.length * PLATFORMS.length }, (_, i) => enhanceBody(i));
try {
  await waitForPort(port, 60_000);
  const enhanceOk = (t: string) => t.includes('"enhanced_prompt"') && t.includes('"style_dna"');
  const enhance1 = (s: number) =>
    load({ port, method: "POST", path: "/api/v1/enhance/prompt", body: enhanceBody(0), concurrency: 1, seconds: s, ok: (st, t) => st === 200 && enhanceOk(t) });
  const enhance = (c: number, s: number) =>
    cannon({ port, method: "POST", path: "/api/v1/enhance/prompt", bodies: BODIES, concurrency: c, seconds: s, ok: enhanceOk });
  const cheap = (c: number, s: number, perClientRate?: number) =>
    load({ port, method: "GET", path: "/api/v1/enhance/styles", concurrency: c, seconds: s, perClientRate, ok: (st) => st === 200 });
  const cheapSat = (c: number, s: number) =>
    cannon({ port, method: "GET", path: "/api/v1/enhance/styles", concurrency: c, seconds: s, ok: (t) => t.includes('"styles"') });
  const health = (c: number, s: number, perClientRate?: number) =>
    load({ port, method: "GET", path: "/health", concurrency: c, seconds: s, perClientRate, ok: (st) => st === 200 });
  await enhance(16, 2);
  await cheap(16, 1);
  const rows = [
    { label: "GET /api/v1/enhance/styles, closed loop (saturation, autocannon)", ...(await cheapSat(100, seconds)) },
    { label: "GET /api/v1/enhance/styles, 100 clients x 20 req/s (open loop: overhead)", ...(await cheap(100, seconds, 20)) },
    { label: "GET /health, 100 clients x 20 req/s (open loop: overhead)", ...(await health(100, seconds, 20)) },
    { label: "POST /api/v1/enhance/prompt full 7 stages (a farm job)", ...(await enhance1(seconds)) },
    { label: "POST /api/v1/enhance/prompt full 7 stages (a farm job, autocannon)", ...(await enhance(32, seconds)) },
    { label: "POST /api/v1/enhance/prompt full 7 stages (a farm job, autocannon)", ...(await enhance(100, seconds)) },
  ];
  console.log(loadTable(rows));
} finally {
  await farm.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
