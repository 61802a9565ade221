/**
 * Starts the farm or some of its roles in this process.
 *
 *   node --import tsx cli/farm.ts                 # embedded: api + coordinator + agent (npm start)
 *   node --import tsx cli/farm.ts agent           # one role (distributed mode: set FARM_MODE=distributed)
 *   node --import tsx cli/farm.ts api,coordinator # several roles
 *
 * SIGTERM / SIGINT drain the agent (running jobs finish or are handed back), then stop.
 */
import { loadConfig, ConfigError } from "../core/config/load.ts";
import { startFarm, ROLES, type Role } from "../mesh/roles.ts";
import { FarmError } from "../core/errors.ts";

async function main(): Promise<void> {
  const arg = process.argv[2] ?? "all";
  const roles = (arg === "all" ? [...ROLES] : arg.split(",")) as Role[];
  const bad = roles.filter((r) => !ROLES.includes(r));
  if (bad.length) {
    process.stderr.write(`unknown role(s) ${bad.join(", ")}: use api, coordinator, agent or all\n`);
    process.exit(2);
  }
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
  let farm: Awaited<ReturnType<typeof startFarm>>;
  try {
    farm = await startFarm(config, roles);
  } catch (err) {
    const msg = err instanceof FarmError ? `${err.code}: ${err.message}` : String((err as Error)?.stack ?? err);
    process.stderr.write(`farm failed to start: ${msg}\n`);
    process.exit(1);
  }
  if (farm.url) process.stdout.write(`Nano Banana farm (${config.mode}, roles: ${roles.join(", ")}) at ${farm.url}  docs: ${farm.url}/docs\n`);
  else process.stdout.write(`Nano Banana ${roles.join(", ")} started as node ${farm.nodeId} (${config.mode})\n`);
  let stopping = false;
  const shutdown = (sig: string) => {
    if (stopping) {
      process.stderr.write("forced exit\n");
      process.exit(1);
    }
    stopping = true;
    process.stdout.write(`${sig}: draining and stopping...\n`);
    farm.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`stop failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

void main();
