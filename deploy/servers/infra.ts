/**
 * Starts and stops the farm's infrastructure servers as child processes on loopback:
 * redis-server, nats-server and s3rver (the local S3 peer; production uses MinIO).
 * Used by tests, `npm run farm:local` and benchmarks. Every server is stopped by pid.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves once something listens on `port`; rejects after `timeoutMs`, or at once when `gone()` says the server exited. */
export async function waitForPort(port: number, timeoutMs = 10_000, gone: () => boolean = () => false): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (gone()) throw new Error(`the server meant for port ${port} exited before it listened`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, "127.0.0.1");
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`port ${port} did not open within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function requireBinary(name: string, debPackage: string): string {
  for (const dir of ["/usr/bin", "/usr/sbin", "/usr/local/bin", ...(process.env.PATH ?? "").split(":")]) {
    const p = path.join(dir, name);
    if (fs.existsSync(p)) return p;
  }
  throw new Error(`${name} is not installed: run  sudo apt-get install -y ${debPackage}`);
}

export interface ServerHandle {
  name: string;
  port: number;
  url: string;
  pid: number;
  dir: string;
  stop(): Promise<void>;
}

async function stopPid(pid: number, child?: ChildProcess): Promise<void> {
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    if (child && child.exitCode !== null) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    /* gone */
  }
}

function tmpDir(name: string, base?: string): string {
  const root = base ?? os.tmpdir();
  fs.mkdirSync(root, { recursive: true });
  return fs.mkdtempSync(path.join(root, `nb-${name}-`));
}

/**
 * True when the process `pid` holds the listening TCP socket on 127.0.0.1:`port` (Linux:
 * the socket's inode in /proc/net/tcp or tcp6, found among the process's open fds). A port that
 * opens is not proof that our server bound it: freePort() releases its port, and another
 * test file's server (two files run at once) or an outgoing connection can take it first;
 * our server then exits, and a bare connect test would hand the caller somebody else's
 * server. Without /proc (not Linux) it answers true: the connect test is all there is.
 */
export function listenedBy(pid: number, port: number): boolean {
  let table = "";
  for (const f of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    try {
      table += fs.readFileSync(f, "utf8").split("\n").slice(1).join("\n") + "\n";
    } catch {
      /* no IPv6, or not Linux */
    }
  }
  if (table === "") return true;
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  const inodes = new Set<string>();
  for (const line of table.split("\n")) {
    const f = line.trim().split(/\s+/);
    // local_address is HEXIP:HEXPORT, st 0A is LISTEN, inode is the 10th column.
    if (f.length > 9 && f[1]!.endsWith(`:${hexPort}`) && f[3] === "0A") inodes.add(`socket:[${f[9]}]`);
  }
  if (inodes.size === 0) return false;
  let fds: string[];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  return fds.some((fd) => {
    try {
      return inodes.has(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
    } catch {
      return false;
    }
  });
}

/**
 * Spawns a server on ports from `pick` and resolves once the child itself listens on every
 * one of them. A child that exits first (its port was taken), or a port held by another
 * process, is tried again on fresh ports when the ports were chosen here (up to 3 tries);
 * ports the caller named fail at once.
 */
async function spawnListening(
  name: string,
  chosen: boolean,
  pick: () => Promise<number[]>,
  start: (ports: number[]) => ChildProcess,
  cleanup: () => void = () => {},
): Promise<{ child: ChildProcess; ports: number[] }> {
  for (let attempt = 1; ; attempt++) {
    const ports = await pick();
    const child = start(ports);
    let exited = false;
    child.once("exit", () => (exited = true));
    try {
      for (const port of ports) {
        await waitForPort(port, 10_000, () => exited);
        const deadline = Date.now() + 10_000;
        while (!listenedBy(child.pid!, port)) {
          if (exited) throw new Error(`${name} meant for port ${port} exited: the port was taken by another process`);
          if (Date.now() > deadline) throw new Error(`port ${port} is held by another process than ${name} (pid ${child.pid})`);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      return { child, ports };
    } catch (err) {
      if (!exited) child.kill("SIGKILL");
      cleanup();
      if (chosen && attempt < 3) continue;
      throw err;
    }
  }
}

/** `password`: started with `requirepass`; the handle's url carries it (`redis://:pw@host:port`). */
export async function startRedis(opts: { port?: number; dir?: string; password?: string } = {}): Promise<ServerHandle> {
  const bin = requireBinary("redis-server", "redis-server");
  const dir = opts.dir ?? tmpDir("redis");
  fs.mkdirSync(dir, { recursive: true });
  const { child, ports } = await spawnListening(
    "redis-server",
    opts.port === undefined,
    async () => [opts.port ?? (await freePort())],
    ([port]) => {
      const args = ["--bind", "127.0.0.1", "--port", String(port), "--save", "", "--appendonly", "yes", "--dir", dir, "--protected-mode", "yes"];
      // Through a config file (mode 600), not argv: a password in argv shows in `ps`.
      if (opts.password !== undefined) {
        const conf = path.join(dir, "auth.conf");
        fs.writeFileSync(conf, `requirepass ${opts.password}\n`, { mode: 0o600 });
        args.unshift(conf);
      }
      return spawn(bin, args, { stdio: "ignore" });
    },
  );
  const port = ports[0]!;
  const auth = opts.password !== undefined ? `:${encodeURIComponent(opts.password)}@` : "";
  return handle("redis", port, `redis://${auth}127.0.0.1:${port}`, child, dir);
}

/** What a nats-server asks of its clients (tests of the locked mesh, farm:local). */
export interface NatsSecurity {
  /** One of these, as in deploy/servers/nats.conf. */
  user?: string;
  password?: string;
  token?: string;
  /** Public key (U...) of an nkey user. */
  nkey?: string;
  /** Server certificate and key (PEM files): clients must use TLS. */
  tls?: { cert_file: string; key_file: string; ca_file?: string; verify?: boolean };
}

/** nats-server config text for `sec` (string values quoted: the config language is not JSON). */
export function natsConfText(sec: NatsSecurity): string {
  const q = (v: string) => JSON.stringify(v);
  const lines: string[] = [];
  if (sec.user !== undefined) lines.push(`authorization { user: ${q(sec.user)}, password: ${q(sec.password ?? "")} }`);
  else if (sec.token !== undefined) lines.push(`authorization { token: ${q(sec.token)} }`);
  else if (sec.nkey !== undefined) lines.push(`authorization { users: [ { nkey: ${q(sec.nkey)} } ] }`);
  if (sec.tls) {
    const t = sec.tls;
    lines.push(
      `tls { cert_file: ${q(t.cert_file)}, key_file: ${q(t.key_file)}${t.ca_file ? `, ca_file: ${q(t.ca_file)}` : ""}${t.verify ? ", verify: true" : ""}, timeout: 5 }`,
    );
  }
  return lines.join("\n") + "\n";
}

/**
 * nats-server with its monitoring endpoint on (`-m`): the coordinator reads `/connz` to tell
 * a dead agent from a stalled one (mesh.monitor_urls). Pass both ports to restart a server
 * in place (the NATS-restart tests).
 */
export async function startNats(
  opts: { port?: number; monitorPort?: number; security?: NatsSecurity } = {},
): Promise<ServerHandle & { monitorUrl: string; monitorPort: number }> {
  const bin = requireBinary("nats-server", "nats-server");
  // A port freePort() released can be taken again before nats-server binds it (an outgoing
  // connection's local port comes from the same ephemeral range): nats-server then exits at
  // once. Ports chosen here are chosen afresh and tried again; ports the caller named are not.
  const chosen = opts.port === undefined || opts.monitorPort === undefined;
  let dir = "";
  const { child, ports } = await spawnListening(
    "nats-server",
    chosen,
    async () => [opts.port ?? (await freePort()), opts.monitorPort ?? (await freePort())],
    ([port, monitorPort]) => {
      dir = tmpDir("nats");
      const args = ["-a", "127.0.0.1", "-p", String(port), "-m", String(monitorPort), "-P", path.join(dir, "nats.pid")];
      if (opts.security) {
        const conf = path.join(dir, "nats.conf");
        fs.writeFileSync(conf, natsConfText(opts.security), { mode: 0o600 });
        args.push("-c", conf);
      }
      return spawn(bin, args, { stdio: "ignore" });
    },
    () => fs.rmSync(dir, { recursive: true, force: true }),
  );
  const [port, monitorPort] = ports as [number, number];
  const scheme = opts.security?.tls ? "tls" : "nats";
  return { ...handle("nats", port, `${scheme}://127.0.0.1:${port}`, child, dir), monitorUrl: `http://127.0.0.1:${monitorPort}`, monitorPort };
}

export async function startS3(opts: { port?: number; dir?: string; bucket?: string } = {}): Promise<ServerHandle> {
  const dir = opts.dir ?? tmpDir("s3");
  fs.mkdirSync(dir, { recursive: true });
  // s3rver is a dev dependency (tests, benches, farm:local); production uses MinIO.
  const bin = path.join(ROOT, "node_modules/s3rver/bin/s3rver.js");
  if (!fs.existsSync(bin)) throw new Error("s3rver is not installed (it is a dev dependency): run npm ci without --omit=dev, or use a real MinIO");
  const { child, ports } = await spawnListening(
    "s3rver",
    opts.port === undefined,
    async () => [opts.port ?? (await freePort())],
    ([port]) => {
      const args = [bin, "-d", dir, "-a", "127.0.0.1", "-p", String(port), "--silent", "--no-vhost-buckets"];
      if (opts.bucket) args.push("--configure-bucket", opts.bucket);
      return spawn(process.execPath, args, { stdio: "ignore" });
    },
  );
  const port = ports[0]!;
  return handle("s3", port, `http://127.0.0.1:${port}`, child, dir);
}

function handle(name: string, port: number, url: string, child: ChildProcess, dir: string): ServerHandle {
  const pid = child.pid!;
  return {
    name,
    port,
    url,
    pid,
    dir,
    stop: async () => {
      await stopPid(pid, child);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** True when the binaries the distributed tests need are present. */
export function infraAvailable(): boolean {
  return ["redis-server", "nats-server"].every((b) => spawnSync("sh", ["-c", `command -v ${b} || test -x /usr/sbin/${b}`]).status === 0);
}
