/**
 * A whole distributed farm on loopback, every role its own process: nats-server,
 * redis-server, s3rver, one coordinator, one API and N agents. Used by the multi-process
 * e2e tests, the benchmarks and `npm run farm:local`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, listenedBy, startNats, startRedis, startS3, type NatsSecurity, type ServerHandle } from "./infra.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const TSX = path.join(ROOT, "node_modules/tsx/dist/loader.mjs");

export interface RoleProcess {
  name: string;
  child: ChildProcess;
  /** Everything it printed (tests read it when something fails). */
  output(): string;
  /** SIGTERM (drain) and wait for exit. */
  stop(timeoutMs?: number): Promise<void>;
  /** SIGKILL: a crash, as far as the farm can tell. */
  kill9(): Promise<void>;
}

export interface LocalFarmOptions {
  agents?: number;
  /** Coordinator processes (default 1): with more, one leads and the others stand by (coordinator HA). */
  coordinators?: number;
  apiPort?: number;
  /** Extra FARM_* env for every role. */
  env?: Record<string, string>;
  /** Extra env per agent index. */
  agentEnv?: (i: number) => Record<string, string>;
  dataDir?: string;
  /** Inherit stdio (farm:local) instead of capturing it. */
  inheritOutput?: boolean;
  /** How long the roles may take to come up (default 120 s: four tsx processes starting at once on a loaded 2-core machine took over 30 s). */
  startTimeoutMs?: number;
}

export interface LocalFarm {
  url: string;
  nats: ServerHandle & { monitorUrl: string; monitorPort: number };
  redis: ServerHandle;
  s3: ServerHandle;
  /** The first coordinator process (with several, not necessarily the leader: see `leader` in Redis). */
  coordinator: RoleProcess;
  /** Every coordinator process, `coordinator` first. */
  coordinators: RoleProcess[];
  api: RoleProcess;
  agents: RoleProcess[];
  env: Record<string, string>;
  startRole(name: string, roles: string, extraEnv?: Record<string, string>): RoleProcess;
  restartCoordinator(): Promise<RoleProcess>;
  /** Stop nats-server and start it again on the same ports (every role reconnects by itself). */
  restartNats(downMs?: number): Promise<void>;
  /** Stop redis-server (SIGTERM: it flushes its append-only file) and start it again on the same port and data. */
  restartRedis(downMs?: number): Promise<void>;
  waitForAgents(n: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export function spawnRole(name: string, roles: string, env: Record<string, string>, inherit = false): RoleProcess {
  // NB_ROLE_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles every role process.
  const nodeArgs = (env.NB_ROLE_NODE_ARGS ?? process.env.NB_ROLE_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, "--import", TSX, path.join(ROOT, "cli/farm.ts"), roles], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: inherit ? "inherit" : ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    name,
    child,
    output: () => out,
    stop: async (timeoutMs = 15_000) => {
      if (!alive()) return;
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      await exited;
      clearTimeout(t);
    },
    kill9: async () => {
      if (!alive()) return;
      child.kill("SIGKILL");
      await exited;
    },
  };
}

/**
 * The API's port came from freePort(), which releases it: another process (a server of a test
 * file running beside this one) can take it before the API binds. The API then exits, and the
 * farm's URL would reach that other server. Until the API process itself holds its port, an
 * API that exited on EADDRINUSE is started again on a fresh port (3 tries); the farm's URL
 * follows. The namespace and Redis prefix keep the first port's number: they only need to be
 * unique.
 */
async function apiOnItsPort(farm: LocalFarm): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const port = Number(farm.env.FARM_API__PORT);
    const deadline = Date.now() + 120_000;
    while (farm.api.child.exitCode === null && farm.api.child.signalCode === null && !listenedBy(farm.api.child.pid!, port)) {
      if (Date.now() > deadline) return; // slow to start: waitForAgents reports it
      await new Promise((r) => setTimeout(r, 100));
    }
    if (farm.api.child.exitCode === null && farm.api.child.signalCode === null) return;
    if (attempt >= 3 || !/EADDRINUSE/.test(farm.api.output())) return; // waitForAgents reports it with the API's output
    const fresh = await freePort();
    farm.env.FARM_API__PORT = String(fresh);
    farm.url = `http://127.0.0.1:${fresh}`;
    farm.api = farm.startRole("api", "api");
  }
}

export async function startLocalFarm(opts: LocalFarmOptions = {}): Promise<LocalFarm> {
  const n = opts.agents ?? 2;
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "nb-localfarm-"));
  // A locked mesh and a Redis with a password, as in deploy/ (fresh secrets per farm).
  const secret = () => `nb-${crypto.randomBytes(18).toString("base64url")}`;
  const natsSecurity: NatsSecurity = { user: "farm", password: secret() };
  const redisPassword = secret();
  const [nats, redis, s3] = await Promise.all([startNats({ security: natsSecurity }), startRedis({ password: redisPassword }), startS3()]);
  const apiPort = opts.apiPort ?? (await freePort());
  const env: Record<string, string> = {
    FARM_CONFIG: path.join(ROOT, "farm.config.yaml"),
    FARM_MODE: "distributed",
    FARM_LOG_LEVEL: "warn",
    FARM_MESH__TRANSPORTER: nats.url,
    FARM_MESH__MONITOR_URLS: JSON.stringify([nats.monitorUrl]),
    FARM_MESH__AUTH__USER: natsSecurity.user!,
    FARM_MESH__AUTH__PASSWORD: natsSecurity.password!,
    FARM_MESH__NAMESPACE: `nb-${process.pid}-${apiPort}`,
    FARM_REDIS__URL: redis.url,
    FARM_REDIS__PREFIX: `nb${apiPort}:`,
    FARM_ARTIFACTS__KIND: "s3",
    FARM_ARTIFACTS__S3__ENDPOINT: "127.0.0.1",
    FARM_ARTIFACTS__S3__PORT: String(s3.port),
    FARM_ARTIFACTS__S3__BUCKET: "nanobanana",
    FARM_ARTIFACTS__S3__ACCESS_KEY: "S3RVER",
    FARM_ARTIFACTS__S3__SECRET_KEY: "S3RVER",
    FARM_API__PORT: String(apiPort),
    FARM_PATHS__DATA_DIR: dataDir,
    ...opts.env,
  };
  const inherit = opts.inheritOutput ?? false;
  const startRole = (name: string, roles: string, extraEnv: Record<string, string> = {}) =>
    spawnRole(name, roles, { ...env, FARM_NODE_ID: name, ...extraEnv }, inherit);
  const farm: LocalFarm = {
    url: `http://127.0.0.1:${apiPort}`,
    nats,
    redis,
    s3,
    env,
    coordinator: startRole("coordinator", "coordinator"),
    coordinators: [],
    api: startRole("api", "api"),
    agents: [],
    startRole,
    restartNats: async (downMs = 500) => {
      await farm.nats.stop();
      await new Promise((r) => setTimeout(r, downMs));
      farm.nats = await startNats({ port: farm.nats.port, monitorPort: farm.nats.monitorPort, security: natsSecurity });
    },
    restartRedis: async (downMs = 500) => {
      // Not handle.stop(): that deletes the data folder, append-only file included.
      const pid = farm.redis.pid;
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        /* already gone */
      }
      const deadline = Date.now() + 10_000;
      const gone = () => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      };
      while (!gone() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, downMs));
      farm.redis = await startRedis({ port: farm.redis.port, dir: farm.redis.dir, password: redisPassword });
    },
    restartCoordinator: async () => {
      await farm.coordinator.kill9();
      farm.coordinator = startRole("coordinator", "coordinator");
      farm.coordinators[0] = farm.coordinator;
      return farm.coordinator;
    },
    waitForAgents: async (count: number, timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      let last = "";
      while (Date.now() < deadline) {
        try {
          const res = await fetch(`${farm.url}/api/v1/farm/nodes`);
          if (res.ok) {
            const body = (await res.json()) as { nodes: { node_id: string; alive?: boolean }[] };
            const live = body.nodes.filter((x) => x.alive !== false);
            if (live.length >= count) return;
            last = `${live.length} agents`;
          } else last = `HTTP ${res.status}`;
        } catch (err) {
          last = String(err);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(
        `farm did not reach ${count} agents in ${timeoutMs} ms (${last})\n--- coordinator\n${farm.coordinator.output()}\n--- api\n${farm.api.output()}\n${farm.agents.map((a) => `--- ${a.name}\n${a.output()}`).join("\n")}`,
      );
    },
    stop: async () => {
      await Promise.all(farm.agents.map((a) => a.stop(5000)));
      await Promise.all([farm.api.stop(5000), ...farm.coordinators.map((c) => c.stop(5000))]);
      await Promise.all([farm.nats.stop(), farm.redis.stop(), s3.stop()]);
      if (!opts.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  farm.coordinators.push(farm.coordinator);
  for (let i = 2; i <= (opts.coordinators ?? 1); i++) farm.coordinators.push(startRole(`coordinator-${i}`, "coordinator"));
  for (let i = 1; i <= n; i++) farm.agents.push(startRole(`agent-${i}`, "agent", opts.agentEnv?.(i) ?? {}));
  try {
    if (opts.apiPort === undefined) await apiOnItsPort(farm);
    await farm.waitForAgents(n, opts.startTimeoutMs ?? 120_000);
  } catch (err) {
    await farm.stop();
    throw err;
  }
  return farm;
}
