/**
 * Webhook bodies with API keys on (issue 18, outputs served through signed links): the job
 * in a webhook carries its output paths signed as GET /api/v1/jobs/{id} does, so the
 * receiver (the owner's server, which holds no admin key) can fetch them. Before, the body
 * had bare `/outputs/...` paths, which the API serves to admin keys only (401 without a key).
 * Embedded farm with a real HTTP receiver on loopback.
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { as, startTenancyFarm, TENANT_KEYS, type TenancyFarm } from "../helpers/tenancy-farm.ts";
import { http } from "../helpers/http.ts";

let tf: TenancyFarm;
let receiver: Server;
let hookUrl = "";
const bodies: string[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      bodies.push(Buffer.concat(chunks).toString());
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  tf = await startTenancyFarm({
    fixture: "tenancy-plugin",
    plugins: ["imgfix"],
    // No link secret: the API and the coordinator in one process share the process's key.
    tmpPrefix: "nb-tenancy-hook-",
    config: {
      webhooks: {
        secret: "tenancy-webhook-secret-0123456789",
        allow_private_addresses: true,
        retry_base_ms: 100,
        retry_max_ms: 400,
        max_attempts: 3,
        timeout_ms: 2000,
      },
    },
  });
});

afterAll(async () => {
  await tf?.stop();
  receiver?.closeAllConnections();
  await new Promise<void>((r) => (receiver ? receiver.close(() => r()) : r()));
});

test("a webhook body's output links are signed and fetch without a key", async () => {
  const r = await http(tf.url, "POST", "/api/v1/jobs", { type: "imgfix.make", params: { shade: 77 }, webhook_url: hookUrl }, as(TENANT_KEYS.alice));
  assert.equal(r.status, 202, JSON.stringify(r.body));
  const id = String(r.body.job_id);
  const deadline = Date.now() + 30_000;
  let job: { job_id?: string; status?: string; result?: { image_url?: string; sha256?: string } } | undefined;
  while (!job && Date.now() < deadline) {
    job = bodies.map((b) => JSON.parse(b) as typeof job).find((b) => b?.job_id === id && b.status === "completed");
    if (!job) await new Promise((res) => setTimeout(res, 100));
  }
  assert.ok(job?.result?.image_url, `no completed webhook for ${id}: ${bodies.join("\n")}`);
  const link = job.result.image_url;
  assert.match(link, /^\/outputs\/imgfix\/.+\?exp=\d+&sig=[A-Za-z0-9_-]{43}$/);
  const got = await fetch(tf.url + link);
  assert.equal(got.status, 200);
  const bytes = Buffer.from(await got.arrayBuffer());
  assert.equal(crypto.createHash("sha256").update(bytes).digest("hex"), job.result.sha256);
});
