/**
 * `npm run farm:local -- --agents 2 [--coordinators 2] [--port 8000] [--simulated-gpus "A100:40960,RTX 4090:24576"]`
 * A whole distributed farm on loopback: nats-server, redis-server, s3rver (the local S3
 * peer), coordinators (two by default: one leads, one stands by), API and N agents, each
 * its own process. Ctrl-C stops everything.
 */
import { parseArgs } from "node:util";
import { startLocalFarm } from "./servers/farm-procs.ts";

const { values } = parseArgs({
  options: {
    agents: { type: "string", default: "2" },
    coordinators: { type: "string", default: "2" },
    port: { type: "string", default: "8000" },
    "simulated-gpus": { type: "string" },
    quiet: { type: "boolean", default: false },
  },
});
const agents = Number(values.agents);
if (!Number.isInteger(agents) || agents < 1 || agents > 64) {
  console.error("--agents must be an integer between 1 and 64");
  process.exit(2);
}
const coordinators = Number(values.coordinators);
if (!Number.isInteger(coordinators) || coordinators < 1 || coordinators > 9) {
  console.error("--coordinators must be an integer between 1 and 9");
  process.exit(2);
}
const sim = values["simulated-gpus"]
  ? JSON.stringify(
      values["simulated-gpus"].split(",").map((s) => {
        const [name, vram] = s.split(":");
        return { name: name?.trim(), vram_mb: Number(vram) };
      }),
    )
  : undefined;

console.log(`starting nats-server, redis-server, s3rver, ${coordinators} coordinator(s), api and ${agents} agent(s)...`);
const farm = await startLocalFarm({
  agents,
  coordinators,
  apiPort: Number(values.port),
  inheritOutput: !values.quiet,
  env: { FARM_LOG_LEVEL: "info", ...(sim ? { FARM_AGENT__SIMULATED_GPUS: sim } : {}) },
});
console.log(`
farm ready: ${farm.url}   (docs ${farm.url}/docs)
  nats  ${farm.nats.url}   (user ${farm.env.FARM_MESH__AUTH__USER}, password ${farm.env.FARM_MESH__AUTH__PASSWORD}: the mesh is locked, as in deploy/)
  redis ${farm.redis.url}   (requirepass on)
  s3    ${farm.s3.url}
  try:  FARM_URL=${farm.url} npx farmctl status
Ctrl-C stops everything.`);
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.log("\nstopping the farm...");
  await farm.stop();
  process.exit(0);
};
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
