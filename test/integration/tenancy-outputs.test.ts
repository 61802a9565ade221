/**
 * Tenancy of jobs and their outputs (issue 18 item 3, issue 15 item 6), two API keys against
 * a real embedded farm with auth on and a plugin that writes an output file:
 *   - every route that returns a job (get, list, why, cancel, sync answer) and the
 *     WebSocket answer another key NOT_FOUND (or leave the job out);
 *   - `/outputs/...` is served only through the signed link in the owner's result (or to an
 *     admin key): another read key, no key, a tampered signature, a link moved to another
 *     file or an expired link are refused in the error envelope naming the field;
 *   - the owner's client keeps working: it fetches the URL its result gives it, with or
 *     without a key, and Range requests still work on it.
 * Before the fix any read key downloaded any output (job ids leak through farm status).
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import { createOutputLinks } from "../../api/output-links.ts";
import WebSocket from "ws";
import { as, startTenancyFarm, TENANT_KEYS, type TenancyFarm } from "../helpers/tenancy-farm.ts";
import { http, collectWs, waitJob } from "../helpers/http.ts";

const KEYS = TENANT_KEYS;
const SECRET = "tenancy-test-secret-0123456789abcdef";
let url = "";

let tf: TenancyFarm | undefined;

beforeAll(async () => {
  tf = await startTenancyFarm({ fixture: "output-plugin", plugins: ["outfix"], linkSecret: SECRET, tmpPrefix: "nb-tenancy-" });
  url = tf.url;
});

afterAll(async () => {
  await tf?.stop();
});

/** Status, code and field of an error answer (the spec's envelope). */
function refused(r: { status: number; body: unknown }): string {
  const b = r.body as { error?: unknown; code?: string; details?: { field?: string } };
  assert.equal(b.error, true, JSON.stringify(b));
  return `${r.status} ${b.code} ${b.details?.field}`;
}

async function aliceJob(text: string): Promise<{ id: string; result: Record<string, unknown> }> {
  const r = await http(url, "POST", "/api/v1/jobs", { type: "outfix.write", params: { text } }, as(KEYS.alice));
  assert.equal(r.status, 202, JSON.stringify(r.body));
  const id = String(r.body.job_id);
  const done = await waitJob(url, id, 30_000, as(KEYS.alice));
  assert.equal(done.status, "completed", JSON.stringify(done));
  return { id, result: done.result as Record<string, unknown> };
}

test("another key cannot read, list, explain, cancel or watch a job", async () => {
  const { id } = await aliceJob("alice's secret");
  // NOT_FOUND naming `job`, exactly what an unknown job id gets (tenancy-inputs.test.ts compares them).
  assert.equal(refused(await http(url, "GET", `/api/v1/jobs/${id}`, undefined, as(KEYS.bob))), "404 NOT_FOUND job");
  // /why is an operator's route (admin scope): refused before any job is looked up.
  assert.equal(refused(await http(url, "GET", `/api/v1/jobs/${id}/why`, undefined, as(KEYS.bob))), "403 FORBIDDEN authorization");
  assert.equal(refused(await http(url, "POST", `/api/v1/jobs/${id}/cancel`, undefined, as(KEYS.bob))), "404 NOT_FOUND job");
  const list = await http<{ jobs: { job_id: string }[] }>(url, "GET", "/api/v1/jobs/list", undefined, as(KEYS.bob));
  assert.equal(list.status, 200);
  assert.ok(!list.body.jobs.some((j) => j.job_id === id), "bob's list shows alice's job");
  const ws = await collectWs(`${url.replace("http", "ws")}/ws/${id}`, 60_000, as(KEYS.bob));
  assert.equal(ws.closeCode, 1008);
  assert.equal(ws.messages[0]?.code, "NOT_FOUND");
  assert.ok(!JSON.stringify(ws.messages).includes("/outputs/"), "bob's WebSocket leaked an output path");
  // The owner and an admin do see it.
  assert.equal((await http(url, "GET", `/api/v1/jobs/${id}`, undefined, as(KEYS.alice))).status, 200);
  assert.equal((await http(url, "GET", `/api/v1/jobs/${id}`, undefined, as(KEYS.admin))).status, 200);
});

test("outputs: the owner's signed link works with and without a key; another key, no key, or a bare path are refused", async () => {
  const { id, result } = await aliceJob("alice's picture");
  const link = String(result.text_url);
  const bare = `/outputs/outfix/${id}.txt`;
  assert.match(link, new RegExp(`^${bare.replace(/[.]/g, "\\.")}\\?exp=\\d+&sig=[A-Za-z0-9_-]{43}$`));
  // Nested paths are signed too, and `*_key` fields (artifact keys, not URLs) are left alone.
  assert.match(String((result.files as { url: string }[])[0]!.url), /^\/outputs\/outfix\/.+\?exp=\d+&sig=/);
  assert.equal(result.text_key, `outputs/outfix/${id}.txt`);

  for (const headers of [{}, as(KEYS.alice), as(KEYS.bob)]) {
    const r = await fetch(url + link, { headers });
    assert.equal(r.status, 200);
    assert.equal(await r.text(), "alice's picture");
  }
  const part = await fetch(url + link, { headers: { range: "bytes=0-6" } });
  assert.equal(part.status, 206);
  assert.equal(await part.text(), "alice's");

  assert.equal(refused(await http(url, "GET", bare, undefined, as(KEYS.bob))), "403 FORBIDDEN sig");
  assert.equal(refused(await http(url, "GET", bare, undefined, as(KEYS.alice))), "403 FORBIDDEN sig");
  assert.equal(refused(await http(url, "GET", bare)), "401 UNAUTHORIZED sig");
  const admin = await fetch(url + bare, { headers: as(KEYS.admin) });
  assert.equal(admin.status, 200);
  assert.equal(await admin.text(), "alice's picture");
});

test("outputs: a tampered, moved or expired link is refused, naming the field", async () => {
  const a = await aliceJob("first");
  const b = await aliceJob("second");
  const link = String(a.result.text_url);
  const [p, q] = link.split("?") as [string, string];
  const params = new URLSearchParams(q);
  const sig = params.get("sig")!;
  const flipped = `${sig.slice(0, -1)}${sig.endsWith("A") ? "B" : "A"}`;
  assert.equal(refused(await http(url, "GET", `${p}?exp=${params.get("exp")}&sig=${flipped}`)), "403 FORBIDDEN sig");
  // A later expiry with the old signature.
  assert.equal(refused(await http(url, "GET", `${p}?exp=${Number(params.get("exp")) + 3600}&sig=${sig}`)), "403 FORBIDDEN sig");
  // The signature of one file on another path.
  assert.equal(refused(await http(url, "GET", `${String(b.result.text_url).split("?")[0]}?${q}`, undefined, as(KEYS.bob))), "403 FORBIDDEN sig");
  assert.equal(refused(await http(url, "GET", `${p}?exp=${params.get("exp")}`)), "403 FORBIDDEN sig");
  // A link signed with the farm's secret an hour ago (the TTL is 600 s) has expired.
  const links = createOutputLinks({ outputs: { link_secret: SECRET, link_ttl_s: 600 }, auth: { enabled: true, allow_anonymous: false, keys: [] } });
  const old = links.sign(p, Date.now() - 3_600_000);
  assert.equal(refused(await http(url, "GET", old)), "403 FORBIDDEN exp");
  // Forged with another secret.
  const other = createOutputLinks({ outputs: { link_secret: "x".repeat(40), link_ttl_s: 600 }, auth: { enabled: true, allow_anonymous: false, keys: [] } });
  assert.equal(refused(await http(url, "GET", other.sign(p))), "403 FORBIDDEN sig");
});

test("sync answers and the owner's WebSocket carry signed links that work", async () => {
  const sync = await http(url, "POST", "/api/v1/jobs?wait=true", { type: "outfix.write", params: { text: "sync" } }, as(KEYS.alice));
  assert.equal(sync.status, 200, JSON.stringify(sync.body));
  const syncLink = JSON.stringify(sync.body).match(/\/outputs\/outfix\/[^"]+/)?.[0];
  assert.ok(syncLink?.includes("&sig="), `sync answer without a signed link: ${JSON.stringify(sync.body)}`);
  assert.equal(await (await fetch(url + syncLink)).text(), "sync");

  const { id } = await aliceJob("watched");
  const ws = await collectWs(`${url.replace("http", "ws")}/ws/${id}`, 60_000, as(KEYS.alice));
  const done = ws.messages.find((m) => m.type === "completed");
  assert.ok(done, JSON.stringify(ws.messages));
  const wsLink = String((done.result as Record<string, unknown>).text_url);
  assert.match(wsLink, /\?exp=\d+&sig=/);
  assert.equal(await (await fetch(url + wsLink)).text(), "watched");
});

test("the dashboard's gallery (WS /ws/farm) shows the key's own outputs as signed links a browser can load", async () => {
  const { id } = await aliceJob("in the gallery");
  const ws = new WebSocket(`${url.replace("http", "ws")}/ws/farm`, { headers: as(KEYS.alice) });
  const links: string[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no gallery entry for ${id} in 20 s`)), 20_000);
      ws.on("message", (d) => {
        const text = d.toString();
        for (const m of text.matchAll(/"(\/outputs\/outfix\/[^"]+)"/g)) links.push(m[1]!);
        if (links.some((l) => l.includes(id))) {
          clearTimeout(timer);
          resolve();
        }
      });
      ws.on("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  } finally {
    ws.terminate();
  }
  const link = links.find((l) => l.includes(id))!;
  assert.match(link, /\?exp=\d+&sig=/, `unsigned gallery link ${link}`);
  const r = await fetch(url + link);
  assert.equal(r.status, 200);
  assert.equal(await r.text(), "in the gallery");
});
