/**
 * Signed job webhooks on embedded farms with a real HTTP receiver on loopback: the receiver
 * checks the signature over timestamp and raw body, a forced 500 is retried with backoff
 * and then delivered, every attempt is on the job record, a delivery still owed survives a
 * restart of the farm, and private addresses are refused (400 naming webhook_url) without
 * a connection when the farm does not allow them.
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { startEmbeddedFarm, type TestFarm } from "../helpers/embedded-farm.ts";
import { http } from "../helpers/http.ts";
import { verifySignature } from "../../coordinator/webhooks/signature.ts";
import { hashKey } from "../../api/auth.ts";
import { startProviderStandin } from "../fixtures/remote-image/provider-standin.ts";
import { setTimeout as sleep } from "node:timers/promises";

const SECRET = "webhook-test-secret-0123456789";

interface Hit {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A receiver: answers each path from a script of statuses (the last one repeats). */
class Receiver {
  hits: Hit[] = [];
  connections = 0;
  private server!: Server;
  readonly script = new Map<string, number[]>();
  base = "";

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const p = req.url ?? "/";
        this.hits.push({ path: p, headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
        const plan = this.script.get(p) ?? [200];
        const status = plan.length > 1 ? plan.shift()! : plan[0]!;
        res.writeHead(status, { "content-type": "text/plain" }).end(status === 200 ? "ok" : "nope");
      });
    });
    this.server.on("connection", () => this.connections++);
    await new Promise<void>((r) => {
      this.server.listen(0, "127.0.0.1", r);
    });
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  on(p: string): Hit[] {
    return this.hits.filter((h) => h.path === p);
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => {
      this.server.close(() => r());
    });
  }
}

const rx = new Receiver();
let farm: TestFarm;
const hooks = { secret: SECRET, allow_private_addresses: true, retry_base_ms: 100, retry_max_ms: 400, max_attempts: 4, timeout_ms: 2000 };

beforeAll(async () => {
  await rx.start();
  farm = await startEmbeddedFarm({ webhooks: hooks, agent: { plugins: ["diag", "enhance"] } });
});

afterAll(async () => {
  await farm?.destroy();
  await rx.stop();
});

async function until<T>(fn: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const webhookOf = async (base: string, id: string) =>
  (await http(base, "GET", `/api/v1/jobs/${id}`)).body.webhook as {
    state: string;
    url: string;
    attempts: { status: number | null; error: string | null; at: string }[];
  };

test("a finished job is POSTed signed (t=...,v1=HMAC-SHA256 over '<t>.<body>'), in the shape GET /jobs/{id} answers", async () => {
  const r = await http(farm.url, "POST", "/api/v1/jobs", { type: "diag.echo", params: { hello: "hook" }, webhook_url: `${rx.base}/ok` });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  const id = String(r.body.job_id);
  assert.equal((r.body.webhook as { state: string }).state, "pending");
  const hit = await until(() => rx.on("/ok").find((h) => JSON.parse(h.body).job_id === id), "the delivery");
  const sig = String(hit.headers["x-farm-signature"]);
  assert.match(sig, /^t=\d+,v1=[0-9a-f]{64}$/);
  assert.ok(verifySignature(SECRET, hit.body, sig), "signature verifies over the raw body");
  assert.ok(!verifySignature(SECRET, hit.body.replace("hook", "hack"), sig), "a changed body does not verify");
  assert.ok(!verifySignature("another-secret-of-some-length", hit.body, sig), "another secret does not verify");
  const t = Number(/t=(\d+)/.exec(sig)![1]);
  assert.ok(!verifySignature(SECRET, hit.body, sig, t + 301), "an old timestamp is refused (replay)");
  assert.equal(hit.headers["x-farm-event"], "job.completed");
  assert.equal(hit.headers["x-farm-delivery"], `${id}.1`);
  assert.equal(hit.headers["content-type"], "application/json");
  const posted = JSON.parse(hit.body) as Record<string, unknown>;
  const view = (await http(farm.url, "GET", `/api/v1/jobs/${id}`)).body;
  assert.deepEqual(Object.keys(posted).sort(), Object.keys(view).sort());
  assert.equal(posted.status, "completed");
  assert.deepEqual(posted.result, { echo: { hello: "hook" } });
  const wh = await until(async () => {
    const w = await webhookOf(farm.url, id);
    return w.state === "delivered" ? w : undefined;
  }, "delivered state");
  assert.equal(wh.url, `${rx.base}/ok`);
  assert.equal(wh.attempts.length, 1);
  assert.equal(wh.attempts[0]!.status, 200);
});

test("a receiver answering 500 is retried with backoff, then the delivery succeeds; every attempt is on the job", async () => {
  rx.script.set("/flaky", [500, 500, 200]);
  const r = await http(farm.url, "POST", "/api/v1/jobs?wait=true", {
    type: "diag.fail",
    params: { message: "on purpose", code: "VALIDATION_ERROR" },
    webhook_url: `${rx.base}/flaky`,
  });
  assert.equal(r.status, 200);
  const id = String(r.body.job_id);
  const wh = await until(async () => {
    const w = await webhookOf(farm.url, id);
    return w.state === "delivered" ? w : undefined;
  }, "delivery after retries");
  assert.deepEqual(
    wh.attempts.map((a) => a.status),
    [500, 500, 200],
  );
  const at = wh.attempts.map((a) => Date.parse(a.at));
  assert.ok(at[1]! - at[0]! >= 50 && at[2]! - at[1]! >= 100, `backoff between attempts: ${at.map((x) => x - at[0]!)}`);
  const hits = rx.on("/flaky");
  assert.equal(hits.length, 3);
  assert.deepEqual(
    hits.map((h) => h.headers["x-farm-delivery"]),
    [`${id}.1`, `${id}.2`, `${id}.3`],
  );
  for (const h of hits) {
    assert.ok(verifySignature(SECRET, h.body, String(h.headers["x-farm-signature"])));
    assert.equal(h.headers["x-farm-event"], "job.failed");
    assert.equal(JSON.parse(h.body).error_code, "VALIDATION_ERROR");
  }
});

test("a receiver that never accepts: attempts stop at webhooks.max_attempts and the webhook is failed", async () => {
  rx.script.set("/down", [503]);
  const r = await http(farm.url, "POST", "/api/v1/jobs?wait=true", { type: "diag.echo", params: {}, webhook_url: `${rx.base}/down` });
  const id = String(r.body.job_id);
  const wh = await until(async () => {
    const w = await webhookOf(farm.url, id);
    return w.state === "failed" ? w : undefined;
  }, "given up");
  assert.equal(wh.attempts.length, 4);
  assert.ok(wh.attempts.every((a) => a.status === 503));
  await sleep(600);
  assert.equal(rx.on("/down").length, 4, "nothing after giving up");
});

test("webhook_url works on the spec's job routes too, and never reaches the job's params", async () => {
  const r = await http(farm.url, "POST", "/api/v1/enhance/prompt?async=true", { prompt: "a lighthouse at dusk", webhook_url: `${rx.base}/enhance` });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  const id = String(r.body.job_id);
  const hit = await until(() => rx.on("/enhance").find((h) => JSON.parse(h.body).job_id === id), "enhance delivery");
  assert.ok(verifySignature(SECRET, hit.body, String(hit.headers["x-farm-signature"])));
  assert.equal(JSON.parse(hit.body).status, "completed");
  const job = await farm.coordinator!.get(id);
  assert.equal(job.params.webhook_url, undefined);
  assert.equal(job.webhook?.url, `${rx.base}/enhance`);
});

test("bad webhook URLs are a 400 naming webhook_url", async () => {
  for (const [url, constraint] of [
    ["ftp://example.com/x", "url scheme"],
    ["not a url", "url"],
    ["http://user:pw@example.com/", "url"],
  ] as const) {
    const r = await http(farm.url, "POST", "/api/v1/jobs", { type: "diag.echo", webhook_url: url });
    assert.equal(r.status, 400, url);
    assert.equal(r.body.code, "VALIDATION_ERROR");
    assert.deepEqual(r.body.details, { field: "webhook_url", constraint }, url);
  }
});

test("a delivery still owed when the farm stops is carried on by the restarted coordinator", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nb-webhook-restart-"));
  rx.script.set("/later", [500]);
  // The retry after the first failure is due in 0.75-1.5 s: the farm stops before it.
  const first = { ...hooks, retry_base_ms: 1500, retry_max_ms: 1500 };
  let f = await startEmbeddedFarm({ webhooks: first }, dir);
  let id = "";
  try {
    const r = await http(f.url, "POST", "/api/v1/jobs?wait=true", { type: "diag.echo", params: { n: 1 }, webhook_url: `${rx.base}/later` });
    id = String(r.body.job_id);
    await until(async () => ((await webhookOf(f.url, id)).attempts.length === 1 ? true : undefined), "first failed attempt");
  } finally {
    await f.stop({ drainMs: 200 });
  }
  assert.equal(rx.on("/later").length, 1);
  rx.script.set("/later", [200]);
  f = await startEmbeddedFarm({ webhooks: hooks }, dir);
  try {
    const wh = await until(async () => {
      const w = await webhookOf(f.url, id);
      return w.state === "delivered" ? w : undefined;
    }, "delivery by the restarted farm");
    assert.deepEqual(
      wh.attempts.map((a) => a.status),
      [500, 200],
      "the record kept the attempt made before the restart",
    );
    assert.equal(rx.on("/later").length, 2);
    assert.equal(rx.on("/later")[1]!.headers["x-farm-delivery"], `${id}.2`);
  } finally {
    await f.stop({ drainMs: 200 });
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("private addresses are refused with 400 naming webhook_url, without connecting", async () => {
  const strict = await startEmbeddedFarm({
    webhooks: { secret: SECRET },
    api: {
      auth: { enabled: true, keys: [{ name: "hooks", sha256: hashKey("webhook-test-key"), scopes: ["generate", "read"], webhook_url: `${rx.base}/default` }] },
    },
  });
  try {
    const auth = { authorization: "Bearer webhook-test-key" };
    const conns = rx.connections;
    for (const url of [`${rx.base}/ok`, "http://10.1.2.3/hook", "http://169.254.169.254/latest", "http://[::1]:9/x", "http://localhost:9/x"]) {
      const r = await http(strict.url, "POST", "/api/v1/jobs", { type: "diag.echo", webhook_url: url }, auth);
      assert.equal(r.status, 400, url);
      assert.equal(r.body.code, "VALIDATION_ERROR");
      assert.deepEqual(r.body.details, { field: "webhook_url", constraint: "public address" }, url);
      assert.match(String(r.body.message), /^webhook_url: host '.+' resolves to a non-public address/);
    }
    // The key's default webhook_url applies when the body has none, and is vetted the same way.
    const d = await http(strict.url, "POST", "/api/v1/jobs", { type: "diag.echo" }, auth);
    assert.equal(d.status, 400);
    assert.deepEqual(d.body.details, { field: "webhook_url", constraint: "public address" });
    assert.equal(rx.connections, conns, "the receiver was never contacted");
    assert.equal((await strict.coordinator!.list({ limit: 10 })).total, 0, "nothing was submitted");
  } finally {
    await strict.destroy();
  }
});

test("an API key's own webhook_secret signs its jobs' webhooks, and its default webhook_url applies", async () => {
  const keySecret = "key-own-webhook-secret-42";
  const f = await startEmbeddedFarm({
    webhooks: hooks,
    api: {
      auth: {
        enabled: true,
        keys: [{ name: "studio", sha256: hashKey("studio-key"), scopes: ["generate", "read"], webhook_url: `${rx.base}/studio`, webhook_secret: keySecret }],
      },
    },
  });
  try {
    const r = await http(f.url, "POST", "/api/v1/jobs?wait=true", { type: "diag.echo", params: { k: 1 } }, { authorization: "Bearer studio-key" });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const id = String(r.body.job_id);
    const hit = await until(() => rx.on("/studio").find((h) => JSON.parse(h.body).job_id === id), "delivery to the key's default URL");
    const sig = String(hit.headers["x-farm-signature"]);
    assert.ok(verifySignature(keySecret, hit.body, sig), "signed with the key's secret");
    assert.ok(!verifySignature(SECRET, hit.body, sig), "not with the farm's");
  } finally {
    await f.destroy();
  }
});

test("a batch's webhook fires once, when the batch ends, with the batch's result (its children carry none)", async () => {
  const model = "google/gemini-2.0-flash-exp:free";
  const provider = await startProviderStandin({ delayMs: 20 });
  const f = await startEmbeddedFarm({
    webhooks: hooks,
    agent: { plugins: ["remote-image"] },
    plugins: {
      "remote-image": {
        retry_base_ms: 50,
        providers: { openrouter: { protocol: "openrouter-chat", base_url: `${provider.url}/api/v1`, api_key: provider.key, models: { [model]: model } } },
      },
    },
  });
  try {
    const r = await http(f.url, "POST", "/api/v1/generate/batch", {
      prompts: ["a red kite", "a blue kite"],
      shared_settings: { model, width: 512, height: 512 },
      webhook_url: `${rx.base}/batch`,
    });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const id = String(r.body.job_id);
    const hit = await until(() => rx.on("/batch").find((h) => JSON.parse(h.body).job_id === id), "the batch's delivery", 30_000);
    assert.ok(verifySignature(SECRET, hit.body, String(hit.headers["x-farm-signature"])));
    const posted = JSON.parse(hit.body) as { status: string; result: { total: number; completed: number } };
    assert.equal(posted.status, "completed");
    assert.equal(posted.result.total, 2);
    assert.equal(posted.result.completed, 2);
    await sleep(300);
    assert.equal(rx.on("/batch").length, 1, "one delivery for the batch, none for its children");
    assert.equal((await f.coordinator!.get(`${id}-0`)).webhook, undefined);
  } finally {
    await f.destroy();
    await provider.close();
  }
});

test("without a signing secret, webhook_url is refused (an unsigned webhook cannot be trusted)", async () => {
  const bare = await startEmbeddedFarm({ webhooks: { allow_private_addresses: true } });
  try {
    const r = await http(bare.url, "POST", "/api/v1/jobs", { type: "diag.echo", webhook_url: `${rx.base}/ok` });
    assert.equal(r.status, 400);
    assert.deepEqual(r.body.details, { field: "webhook_url", constraint: "webhooks.secret" });
  } finally {
    await bare.destroy();
  }
});
