/**
 * The locked mesh (issue 18 item 1, issue 15 item 2): a real nats-server that demands
 * credentials (user/password, token, nkey) and one that demands TLS with a self-signed
 * certificate made here with openssl.
 *   - a plain NATS client without credentials cannot connect, so cannot subscribe `>`;
 *   - a Moleculer node (an agent) without credentials never joins the mesh, while one with
 *     them does (the control: same code, same server);
 *   - with TLS, a node that trusts the farm's CA joins; one without TLS settings or without
 *     the CA is refused.
 * Before the fix the transporter had no way to send credentials or use TLS, so the farm
 * could only run on an open nats-server, where all of the above got in.
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { connect, nkeys, type ConnectionOptions } from "nats";
import { startNats, infraAvailable, type NatsSecurity, type ServerHandle } from "../../deploy/servers/infra.ts";
import { loadConfig, ConfigError } from "../../core/config/load.ts";
import { createBroker, type Broker } from "../../mesh/broker.ts";
import { natsSecurityOptions } from "../../mesh/nats-options.ts";

const run = promisify(execFile);
const skip = infraAvailable() ? false : "nats-server is not installed";
type Nats = ServerHandle & { monitorUrl: string; monitorPort: number };
const servers: Nats[] = [];
const brokers: Broker[] = [];
let certDir = "";

beforeAll(async () => {
  if (skip) return;
  certDir = fs.mkdtempSync(path.join(os.tmpdir(), "nb-mesh-tls-"));
  await selfSignedCert(certDir);
});

/** Stopping a node that never connected can wait on its reconnect loop: bounded. */
const stopNode = (b: Broker) => Promise.race([b.stop().catch(() => undefined), new Promise((r) => setTimeout(r, 3000))]);

afterAll(async () => {
  await Promise.all(brokers.map(stopNode));
  await Promise.all(servers.map((s) => s.stop()));
  if (certDir) fs.rmSync(certDir, { recursive: true, force: true });
});

/** A CA and a server certificate for 127.0.0.1, as deploy/servers/make-certs.sh makes them. */
async function selfSignedCert(dir: string): Promise<void> {
  const o = (...args: string[]) => run("openssl", args, { cwd: dir });
  await o("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test farm CA", "-keyout", "ca-key.pem", "-out", "ca.pem");
  await o("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=nats", "-keyout", "server-key.pem", "-out", "server.csr");
  fs.writeFileSync(path.join(dir, "server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  await o(
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca-key.pem",
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    "server.ext",
    "-out",
    "server.pem",
  );
}

async function nats(security: NatsSecurity): Promise<Nats> {
  const s = await startNats({ security });
  servers.push(s);
  return s;
}

function meshConfig(url: string, mesh: Record<string, unknown> = {}) {
  return loadConfig({
    file: null,
    env: {},
    overrides: {
      mode: "distributed",
      log_level: "silent",
      mesh: { transporter: url, namespace: "auth-test", heartbeat_interval_s: 0.5, heartbeat_timeout_s: 2, ...mesh },
    },
  });
}

/** A started broker, or the error its start gave up with (a refused node retries forever: bounded here). */
// The default wait is for nodes that must get in (30 s of room on a loaded machine); the refused ones pass their own short wait.
async function startNode(nodeId: string, url: string, mesh: Record<string, unknown> = {}, waitMs = 30_000): Promise<Broker | Error> {
  const b = createBroker(meshConfig(url, mesh), nodeId);
  brokers.push(b);
  // One attempt: a refused node would otherwise retry every 5 s for ever, even after stop()
  // (Moleculer 0.14's transit re-arms its retry timer), and keep this test process alive.
  (b.transit as unknown as { opts: { disableReconnect?: boolean } }).opts.disableReconnect = true;
  if (!nodeId.includes("coord")) b.createService({ name: "agent", actions: { ping: () => nodeId } });
  const started = b.start().then(
    () => b,
    (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
  );
  const timeout = new Promise<Error>((r) => setTimeout(() => r(new Error(`not connected after ${waitMs} ms`)), waitMs));
  const outcome = await Promise.race([started, timeout]);
  if (outcome instanceof Error) await stopNode(b);
  return outcome;
}

/** A call from `from` to `nodeId`'s agent.ping, once the mesh has told `from` about it. */
async function ping(from: Broker, nodeId: string): Promise<unknown> {
  const registry = from.registry as unknown as { getActionEndpointByNodeId(action: string, nodeID: string): unknown };
  const deadline = Date.now() + 30_000;
  while (!registry.getActionEndpointByNodeId("agent.ping", nodeId) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  return from.call("agent.ping", {}, { nodeID: nodeId });
}

/** Whether `observer` lists `nodeId` on the mesh within `ms`. */
async function seen(observer: Broker, nodeId: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    // Moleculer 0.14's registry has this method; its typings do not declare it.
    const registry = observer.registry as unknown as { getNodeList(o: { onlyAvailable: boolean }): { id: string }[] };
    const nodes = registry.getNodeList({ onlyAvailable: true });
    if (nodes.some((n) => n.id === nodeId)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

async function plainClient(opts: Partial<ConnectionOptions>): Promise<string> {
  try {
    const c = await connect({ reconnect: false, timeout: 30_000, ...opts });
    // Connected: a subscription to everything works (what a rogue listener wants).
    const sub = c.subscribe(">");
    await c.flush();
    sub.unsubscribe();
    await c.close();
    return "connected";
  } catch (err) {
    return `refused: ${(err as { code?: string }).code ?? ""} ${(err as Error).message}`;
  }
}

test.skipIf(skip)("user/password: a NATS client without credentials cannot subscribe to '>'; an agent without them never joins", async () => {
  const s = await nats({ user: "farm", password: "mesh-pw-1" });
  const host = `127.0.0.1:${s.port}`;
  const anon = await plainClient({ servers: host });
  assert.match(anon, /^refused: .*(AUTHORIZATION_VIOLATION|Authorization Violation)/i);
  assert.match(await plainClient({ servers: host, user: "farm", pass: "wrong" }), /^refused/);
  assert.equal(await plainClient({ servers: host, user: "farm", pass: "mesh-pw-1" }), "connected");

  const auth = { auth: { user: "farm", password: "mesh-pw-1" } };
  const coord = await startNode("coord-1", s.url, auth);
  assert.ok(!(coord instanceof Error), String(coord));
  const rogue = await startNode("rogue-1", s.url, {}, 3000);
  assert.ok(rogue instanceof Error, "a node without credentials started");
  assert.equal(await seen(coord, "rogue-1", 2000), false, "the coordinator sees a node that has no credentials");
  // Control: the same code with the credentials joins and answers calls.
  const agent = await startNode("agent-1", s.url, auth);
  assert.ok(!(agent instanceof Error), String(agent));
  assert.equal(await ping(coord, "agent-1"), "agent-1");
});

test.skipIf(skip)("token and nkey credentials from config log in; a wrong one is refused", async () => {
  const t = await nats({ token: "tok-abc-123" });
  const good = natsSecurityOptions(meshConfig(t.url, { auth: { token: "tok-abc-123" } }).mesh);
  assert.equal(await plainClient({ servers: `127.0.0.1:${t.port}`, ...good }), "connected");
  assert.match(await plainClient({ servers: `127.0.0.1:${t.port}`, token: "tok-wrong" }), /^refused/);

  const user = nkeys.createUser();
  const other = nkeys.createUser();
  const n = await nats({ nkey: user.getPublicKey() });
  const seed = new TextDecoder().decode(user.getSeed());
  const withSeed = natsSecurityOptions(meshConfig(n.url, { auth: { nkey_seed: seed } }).mesh);
  assert.equal(await plainClient({ servers: `127.0.0.1:${n.port}`, ...withSeed }), "connected");
  const wrong = natsSecurityOptions(meshConfig(n.url, { auth: { nkey_seed: new TextDecoder().decode(other.getSeed()) } }).mesh);
  assert.match(await plainClient({ servers: `127.0.0.1:${n.port}`, ...wrong }), /^refused/);
  assert.match(await plainClient({ servers: `127.0.0.1:${n.port}` }), /^refused/);
});

test.skipIf(skip)("TLS with a self-signed certificate: a node trusting the farm's CA joins; one without TLS or without the CA is refused", async () => {
  const s = await nats({
    user: "farm",
    password: "tls-pw",
    tls: { cert_file: path.join(certDir, "server.pem"), key_file: path.join(certDir, "server-key.pem") },
  });
  assert.match(s.url, /^tls:\/\//);
  const host = `127.0.0.1:${s.port}`;
  // Right password, but no CA: the server's certificate is not trusted.
  assert.match(await plainClient({ servers: host, user: "farm", pass: "tls-pw" }), /^refused: .*(certificate|CERT|VERIFY)/i);
  assert.equal(await plainClient({ servers: host, user: "farm", pass: "tls-pw", tls: { caFile: path.join(certDir, "ca.pem") } }), "connected");

  const secure = { auth: { user: "farm", password: "tls-pw" }, tls: { enabled: true, ca_file: path.join(certDir, "ca.pem") } };
  const coord = await startNode("tls-coord", s.url, secure);
  assert.ok(!(coord instanceof Error), String(coord));
  const noCa = await startNode("tls-no-ca", s.url, { auth: secure.auth }, 3000);
  assert.ok(noCa instanceof Error, "a node without the farm's CA joined");
  const agent = await startNode("tls-agent", s.url, secure);
  assert.ok(!(agent instanceof Error), String(agent));
  assert.equal(await ping(coord, "tls-agent"), "tls-agent");
  assert.equal(await seen(coord, "tls-no-ca", 500), false);
});

test("a half-configured mesh stops at start with the problem named", () => {
  const problems = (mesh: Record<string, unknown>) => {
    try {
      meshConfig("nats://127.0.0.1:4222", mesh);
      return [];
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      return err.problems;
    }
  };
  assert.deepEqual(problems({ auth: { user: "farm" } }), ["mesh.auth.password: required with mesh.auth.user"]);
  assert.deepEqual(problems({ auth: { token: "t", user: "u", password: "p" } }), [
    "mesh.auth: set one of token, user + password or nkey_seed, not token and user",
  ]);
  assert.deepEqual(problems({ tls: { enabled: true, ca_file: "/nonexistent/ca.pem" } }), ["mesh.tls.ca_file: file /nonexistent/ca.pem does not exist"]);
  assert.deepEqual(problems({ tls: { ca_file: "/etc/hostname" } }), ["mesh.tls.enabled: must be true when TLS files are set"]);
  assert.deepEqual(
    problems({ auth: { nkey_seed: "not-a-seed" } }).map((p) => p.split(",")[0]),
    ["mesh.auth.nkey_seed: expected a string matching ^SU[A-Z2-7]{56}$"],
  );
});
