/**
 * API keys against a real embedded farm with api.auth on: keys stored as SHA-256 hashes,
 * sent as Bearer or X-API-Key (or ?api_key= on a WebSocket upgrade), scopes enforced,
 * one client's jobs invisible to another, and the startup guard against an open farm
 * on a public address.
 */
import { afterAll, beforeAll, describe, test } from "vitest";
import assert from "node:assert/strict";
import net from "node:net";
import { startTenancyFarm, TENANT_KEYS, type TenancyFarm } from "../helpers/tenancy-farm.ts";
import { http, waitJob, collectWs } from "../helpers/http.ts";
import { assertEnvelope } from "./api-fixtures.ts";
import { hashKey, checkBindSafety } from "../../api/auth.ts";
import { loadConfig } from "../../core/config/load.ts";
import { startFarm } from "../../mesh/roles.ts";
import { silentLogger } from "../../core/logger.ts";
import { FarmError } from "../../core/errors.ts";

const KEYS = TENANT_KEYS;
const bearer = (k: string) => ({ authorization: `Bearer ${k}` });
const xkey = (k: string) => ({ "x-api-key": k });

let tf: TenancyFarm;
const api = (method: string, p: string, body?: unknown, headers?: Record<string, string>) => http(tf.url, method, p, body, headers);

beforeAll(async () => {
  tf = await startTenancyFarm({ plugins: ["diag", "enhance"], tmpPrefix: "nb-api-auth-" });
});
afterAll(async () => {
  await tf?.stop();
});

describe("authentication", () => {
  test("no key -> 401 UNAUTHORIZED envelope on reads and writes; /health stays public", async () => {
    const d = assertEnvelope(await api("GET", "/api/v1/jobs/list"), 401, "UNAUTHORIZED", "authorization");
    assert.equal(d.constraint, "api_key");
    assertEnvelope(await api("POST", "/api/v1/enhance/prompt", { prompt: "a cat" }), 401, "UNAUTHORIZED", "authorization");
    assertEnvelope(await api("GET", "/api/v1/farm/status"), 401, "UNAUTHORIZED");
    const health = await api("GET", "/health");
    assert.equal(health.status, 200);
    assert.deepEqual(health.body, { ok: true });
  });

  test("?api_key= is refused on plain HTTP routes (it is for WebSocket upgrades only)", async () => {
    const r = await api("GET", `/api/v1/jobs/list?api_key=${KEYS.alice}`);
    assertEnvelope(r, 401, "UNAUTHORIZED", "authorization");
    assert.match(String(r.body.message), /missing API key/);
  });

  test("an unknown key -> 401, also when it is the hash itself", async () => {
    const r = await api("GET", "/api/v1/jobs/list", undefined, bearer("nb-nobody"));
    assertEnvelope(r, 401, "UNAUTHORIZED", "authorization");
    assert.match(String(r.body.message), /unknown API key/);
    // The config holds hashes: sending a stored hash as the key must not authenticate.
    assertEnvelope(await api("GET", "/api/v1/jobs/list", undefined, xkey(hashKey(KEYS.admin))), 401, "UNAUTHORIZED");
    assertEnvelope(await api("GET", "/api/v1/jobs/list", undefined, { authorization: `Basic ${KEYS.alice}` }), 401, "UNAUTHORIZED");
  });

  test("Authorization: Bearer and X-API-Key both authenticate", async () => {
    const viaBearer = await api("POST", "/api/v1/enhance/quick", { prompt: "a lighthouse" }, bearer(KEYS.alice));
    assert.equal(viaBearer.status, 200, JSON.stringify(viaBearer.body));
    assert.equal(viaBearer.body.original_prompt, "a lighthouse");
    const viaHeader = await api("POST", "/api/v1/jobs", { type: "diag.echo", params: { via: "x-api-key" } }, xkey(KEYS.alice));
    assert.equal(viaHeader.status, 202, JSON.stringify(viaHeader.body));
    const done = await waitJob(tf.url, String(viaHeader.body.job_id), 60_000, bearer(KEYS.alice));
    assert.deepEqual(done.result, { echo: { via: "x-api-key" } });
  });
});

describe("scopes", () => {
  test("a read-only key cannot generate (403 FORBIDDEN) but can read jobs", async () => {
    const d = assertEnvelope(await api("POST", "/api/v1/enhance/prompt", { prompt: "a cat" }, bearer(KEYS.reader)), 403, "FORBIDDEN", "authorization");
    assert.equal(d.constraint, "scope:generate");
    assertEnvelope(await api("POST", "/api/v1/jobs", { type: "diag.echo" }, bearer(KEYS.reader)), 403, "FORBIDDEN");
    const list = await api("GET", "/api/v1/jobs/list", undefined, bearer(KEYS.reader));
    assert.equal(list.status, 200);
    assert.ok(Array.isArray(list.body.jobs));
    assert.equal((await api("GET", "/api/v1/enhance/styles", undefined, xkey(KEYS.reader))).status, 200);
  });

  test("draining a node needs admin", async () => {
    const node = tf.farm.nodeId;
    for (const k of [KEYS.alice, KEYS.reader]) {
      const d = assertEnvelope(await api("POST", `/api/v1/farm/nodes/${node}/drain`, undefined, bearer(k)), 403, "FORBIDDEN", "authorization");
      assert.equal(d.constraint, "scope:admin");
    }
    assertEnvelope(await api("GET", `/api/v1/jobs/${"a".repeat(8)}/why`, undefined, bearer(KEYS.alice)), 403, "FORBIDDEN");
    const drained = await api("POST", `/api/v1/farm/nodes/${node}/drain`, undefined, bearer(KEYS.admin));
    assert.equal(drained.status, 200, JSON.stringify(drained.body));
    const undrained = await api("POST", `/api/v1/farm/nodes/${node}/undrain`, undefined, bearer(KEYS.admin));
    assert.equal(undrained.status, 200, JSON.stringify(undrained.body));
  });
});

describe("job ownership", () => {
  test("farm status and nodes show job ids to admins only", async () => {
    const r = await api("POST", "/api/v1/jobs", { type: "diag.sleep", params: { seconds: 20, steps: 20 } }, bearer(KEYS.alice));
    assert.equal(r.status, 202);
    const id = String(r.body.job_id);
    // Until it runs (deadline 60 s; 100 polls, about 5 s, could pass with the job still queued on a loaded machine).
    for (const end = Date.now() + 60_000; ;) {
      const j = await api("GET", `/api/v1/jobs/${id}`, undefined, bearer(KEYS.alice));
      if (j.body.status === "running") break;
      assert.ok(Date.now() < end, `the job did not start: ${JSON.stringify(j.body)}`);
      await new Promise((res) => setTimeout(res, 50));
    }
    for (const k of [KEYS.bob, KEYS.reader]) {
      const status = await api("GET", "/api/v1/farm/status", undefined, bearer(k));
      assert.equal(status.status, 200);
      assert.equal(JSON.stringify(status.body).includes(id), false, "a read key sees another key's job id in /farm/status");
      assert.ok(
        (status.body.running as { job_id: unknown }[]).some((x) => x.job_id === null),
        "the running job is counted, its id hidden",
      );
      const nodes = await api("GET", "/api/v1/farm/nodes", undefined, bearer(k));
      assert.equal(JSON.stringify(nodes.body).includes(id), false, "a read key sees another key's job id in /farm/nodes");
    }
    const admin = await api("GET", "/api/v1/farm/status", undefined, bearer(KEYS.admin));
    assert.ok(JSON.stringify(admin.body).includes(id));
    assert.equal((await api("POST", `/api/v1/jobs/${id}/cancel`, undefined, bearer(KEYS.alice))).status, 200);
  });

  test("idempotency keys are per API key: another key's key (or its old composed form) never returns that job", async () => {
    const a = await api("POST", "/api/v1/jobs", { type: "diag.echo", params: { secret: "alice's" }, idempotency_key: "k1" }, bearer(KEYS.alice));
    assert.equal(a.status, 202, JSON.stringify(a.body));
    const again = await api("POST", "/api/v1/jobs", { type: "diag.echo", params: { secret: "alice's" }, idempotency_key: "k1" }, bearer(KEYS.alice));
    assert.equal(again.body.job_id, a.body.job_id, "the same owner and key -> the same job");
    const b = await api("POST", "/api/v1/jobs", { type: "diag.echo", params: { mine: "bob's" }, idempotency_key: "k1" }, bearer(KEYS.bob));
    assert.equal(b.status, 202);
    assert.notEqual(b.body.job_id, a.body.job_id, "bob's k1 is not alice's k1");
    assert.equal(JSON.stringify(b.body).includes("alice's"), false);
    // A job alice made with the Idempotency-Key header is not found by bob sending "alice:k42".
    const h = await api("POST", "/api/v1/enhance/quick", { prompt: "a secret lighthouse" }, { ...bearer(KEYS.alice), "idempotency-key": "k42" });
    assert.equal(h.status, 200, JSON.stringify(h.body));
    const forged = await api("POST", "/api/v1/jobs", { type: "diag.echo", params: {}, idempotency_key: "alice:k42" }, bearer(KEYS.bob));
    assert.equal(forged.status, 202);
    assert.notEqual(forged.body.job_id, h.body.job_id);
    assert.equal(JSON.stringify(forged.body).includes("lighthouse"), false);
  });

  test("one client cannot see or cancel another's job; an admin can", async () => {
    const mine = await api("POST", "/api/v1/jobs", { type: "diag.sleep", params: { seconds: 30, steps: 30 } }, bearer(KEYS.alice));
    assert.equal(mine.status, 202);
    const id = String(mine.body.job_id);

    assert.equal((await api("GET", `/api/v1/jobs/${id}`, undefined, bearer(KEYS.alice))).status, 200);
    // What an unknown id gets, for get and cancel alike: another key's job ids are not told apart from made-up ones.
    assertEnvelope(await api("GET", `/api/v1/jobs/${id}`, undefined, bearer(KEYS.bob)), 404, "NOT_FOUND", "job");
    assertEnvelope(await api("POST", `/api/v1/jobs/${id}/cancel`, undefined, bearer(KEYS.bob)), 404, "NOT_FOUND", "job");
    assertEnvelope(await api("POST", `/api/v1/jobs/00000000-0000-4000-8000-000000000000/cancel`, undefined, bearer(KEYS.bob)), 404, "NOT_FOUND", "job");
    const bobList = await api("GET", "/api/v1/jobs/list?limit=1000", undefined, bearer(KEYS.bob));
    assert.ok(!(bobList.body.jobs as { job_id: string }[]).some((j) => j.job_id === id), "bob's list shows alice's job");
    const aliceList = await api("GET", "/api/v1/jobs/list?limit=1000", undefined, bearer(KEYS.alice));
    assert.ok((aliceList.body.jobs as { job_id: string }[]).some((j) => j.job_id === id));

    // Bob's WebSocket for alice's job gets NOT_FOUND, like his GET.
    const ws = await collectWs(`${tf.url.replace("http", "ws")}/ws/${id}`, 60_000, bearer(KEYS.bob));
    assert.equal(ws.closeCode, 1008);
    assert.equal(ws.messages[0]?.code, "NOT_FOUND");

    const adminView = await api("GET", `/api/v1/jobs/${id}`, undefined, bearer(KEYS.admin));
    assert.equal(adminView.status, 200);
    const cancel = await api("POST", `/api/v1/jobs/${id}/cancel`, undefined, xkey(KEYS.admin));
    assert.equal(cancel.status, 200, JSON.stringify(cancel.body));
    assert.equal((await waitJob(tf.url, id, 60_000, bearer(KEYS.alice))).status, "cancelled");
  });
});

describe("WebSocket upgrade", () => {
  test("refused without a key; accepted with ?api_key= or a header", async () => {
    const job = await api("POST", "/api/v1/jobs", { type: "diag.sleep", params: { seconds: 0.3, steps: 2 } }, bearer(KEYS.alice));
    const id = String(job.body.job_id);
    const base = `${tf.url.replace("http", "ws")}/ws/${id}`;
    await assert.rejects(collectWs(base, 60_000), /401/);
    await assert.rejects(collectWs(`${base}?api_key=nb-nobody`, 60_000), /401/);
    const viaQuery = await collectWs(`${base}?api_key=${KEYS.alice}`, 60_000);
    assert.equal(viaQuery.messages.at(-1)?.type, "completed", JSON.stringify(viaQuery.messages));
    const viaHeader = await collectWs(base, 60_000, xkey(KEYS.alice));
    assert.equal(viaHeader.messages.at(-1)?.type, "completed");
    assert.equal(viaHeader.closeCode, 1000);
  });

  test("a refused upgrade gets a 401 envelope and its connection is closed (no half-open socket keeps the server from stopping)", async () => {
    const { port } = new URL(tf.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const sock = net.connect(Number(port), "127.0.0.1");
      let data = "";
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error(`server kept the refused upgrade open; got ${JSON.stringify(data)}`));
      }, 5000);
      sock.on("data", (d) => (data += d.toString()));
      // The client half-closes (as ws does after a refused handshake); the server must then close its side.
      sock.on("end", () => {
        clearTimeout(timer);
        sock.destroy();
        resolve(data);
      });
      sock.on("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
      sock.write(
        `GET /ws/${"b".repeat(8)} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${Buffer.from("0123456789abcdef").toString("base64")}\r\n\r\n`,
      );
      sock.end();
    });
    assert.match(answer, /^HTTP\/1\.1 401/);
    assert.match(answer, /"code":"UNAUTHORIZED"/);
  });
});

describe("WebSocket upgrade without a key", () => {
  test("the 401 names ?api_key= (a browser's only way there); a plain route's 401 does not offer it", async () => {
    const { port } = new URL(tf.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const sock = net.connect(Number(port), "127.0.0.1");
      let data = "";
      sock.on("data", (d) => (data += d.toString()));
      sock.on("end", () => resolve(data));
      sock.on("error", reject);
      sock.write(
        `GET /ws/${"c".repeat(8)} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${Buffer.from("0123456789abcdef").toString("base64")}\r\n\r\n`,
      );
      sock.end();
    });
    assert.match(answer, /^HTTP\/1\.1 401/);
    assert.match(answer, /missing API key: send Authorization: Bearer <key>, X-API-Key or \?api_key=<key>/);
    const plain = await api("GET", "/api/v1/jobs/list");
    assert.equal(plain.body.message, "missing API key: send Authorization: Bearer <key> or X-API-Key");
  });
});

describe("bind safety", () => {
  const apiCfg = (api: Record<string, unknown>) => loadConfig({ file: null, env: {}, overrides: { mode: "embedded", log_level: "silent", api } });

  test("auth off on a non-loopback host is refused with a clear message, unless allow_anonymous", async () => {
    const open = apiCfg({ host: "0.0.0.0" });
    assert.throws(
      () => checkBindSafety(open.api),
      (e: unknown) => {
        assert.ok(e instanceof FarmError);
        assert.equal(e.code, "VALIDATION_ERROR");
        assert.equal(e.details?.field, "api.auth.enabled");
        assert.match(e.message, /refusing to listen on 0\.0\.0\.0 with authentication off/);
        assert.match(e.message, /allow_anonymous/);
        return true;
      },
    );
    // Startup itself refuses (listen: false so nothing could bind even if the guard were gone).
    await assert.rejects(startFarm(open, ["api"], { logger: silentLogger, listen: false }), /refusing to listen/);

    assert.doesNotThrow(() => checkBindSafety(apiCfg({ host: "0.0.0.0", auth: { allow_anonymous: true } }).api));
    assert.doesNotThrow(() => checkBindSafety(apiCfg({ host: "127.0.0.1" }).api));
    assert.doesNotThrow(() => checkBindSafety(apiCfg({ host: "::1" }).api));
    assert.doesNotThrow(() =>
      checkBindSafety(apiCfg({ host: "0.0.0.0", auth: { enabled: true, keys: [{ name: "k", sha256: hashKey("k"), scopes: ["read"] }] } }).api),
    );
    assert.throws(() => checkBindSafety(apiCfg({ host: "127.0.0.1", auth: { enabled: true } }).api), /api\.auth\.keys is empty/);
  });
});

// Last in this file: it locks 127.0.0.1 out for a minute.
describe("key guessing", () => {
  test("after 30 failed keys in a minute an address gets 429 for unknown keys, while valid keys keep working", async () => {
    // Earlier tests in this file already spent a few failures from this address.
    let refused = 0;
    for (let i = 0; i < 31; i++) {
      const r = await api("GET", "/api/v1/jobs/list", undefined, bearer(`guess-${i}`));
      if (r.status === 429) break;
      assertEnvelope(r, 401, "UNAUTHORIZED");
      refused++;
    }
    assert.ok(refused >= 20 && refused <= 30, `401s before the lock-out: ${refused}`);
    const blocked = await api("GET", "/api/v1/jobs/list", undefined, bearer("guess-again"));
    assertEnvelope(blocked, 429, "RATE_LIMITED", "authorization");
    assert.ok(Number(blocked.headers.get("retry-after")) > 0);
    // Regression: the lock-out used to refuse every key from the address, admin included.
    for (const k of [KEYS.alice, KEYS.admin]) {
      const ok = await api("GET", "/api/v1/jobs/list", undefined, bearer(k));
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
    }
  });
});
