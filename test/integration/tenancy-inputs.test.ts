/**
 * Tenancy of job inputs and of every job route (issue 18 residuals, issue 15 item 6), with
 * three API keys against a real embedded farm (auth on) and a fixture plugin that writes an
 * image output and reports which file an input resolved to:
 *   - an output may be named as an input (key, `artifact:` reference, server path) only by
 *     a key that can read the job that wrote it, or an admin; any key may pass a valid signed
 *     link (relative or absolute), which is what results give clients; tampered or expired
 *     links are refused naming the field; the refusal is the same whether the file exists;
 *   - the raw-params route checks every output named anywhere in `params` the same way;
 *   - uploads are content-addressed and usable by anyone holding the hash (the documented
 *     capability), and nothing else;
 *   - get, cancel and WebSocket of another key's job answer exactly what a made-up job id
 *     gets: 404 NOT_FOUND (cancel used to answer 403, confirming the job existed).
 * Before the fix any key could feed any output into its own job and read it back.
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import path from "node:path";
import sharp from "sharp";
import { createOutputLinks } from "../../api/output-links.ts";
import { as, startTenancyFarm, TENANT_KEYS, type TenancyFarm } from "../helpers/tenancy-farm.ts";
import { http, collectWs, waitJob } from "../helpers/http.ts";

const KEYS = TENANT_KEYS;
const SECRET = "tenancy-inputs-secret-0123456789abcdef";
let url = "";
let dir = "";

let tf: TenancyFarm | undefined;

beforeAll(async () => {
  tf = await startTenancyFarm({ fixture: "tenancy-plugin", plugins: ["imgfix"], linkSecret: SECRET, tmpPrefix: "nb-tenancy-in-" });
  url = tf.url;
  dir = tf.dir;
});

afterAll(async () => {
  await tf?.stop();
});

/** Status, code, field and constraint of an error answer (the spec's envelope). */
function refused(r: { status: number; body: unknown }): string {
  const b = r.body as { error?: unknown; code?: string; details?: { field?: string; constraint?: string } };
  assert.equal(b.error, true, JSON.stringify(b));
  return `${r.status} ${b.code} ${b.details?.field} ${b.details?.constraint}`;
}

interface Made {
  id: string;
  key: string;
  link: string;
  sha256: string;
}

async function makeImage(key: string, shade: number): Promise<Made> {
  const r = await http(url, "POST", "/api/v1/jobs", { type: "imgfix.make", params: { shade } }, as(key));
  assert.equal(r.status, 202, JSON.stringify(r.body));
  const done = await waitJob(url, String(r.body.job_id), 30_000, as(key));
  assert.equal(done.status, "completed", JSON.stringify(done));
  const res = done.result as Record<string, string>;
  return { id: String(r.body.job_id), key: res.image_key!, link: res.image_url!, sha256: res.sha256! };
}

/** POST /face/detect (the fixture reports the input it got) with `image`, as `key`. */
const detect = (key: string, image: string) => http(url, "POST", "/api/v1/face/detect?async=true", { image }, as(key));

/** The detect job's view of its input: the resolved key and the SHA-256 of its bytes. */
async function inputOf(r: Awaited<ReturnType<typeof detect>>, key: string): Promise<{ input_key: string; input_sha256: string }> {
  assert.equal(r.status, 202, JSON.stringify(r.body));
  const done = await waitJob(url, String(r.body.job_id), 30_000, as(key));
  assert.equal(done.status, "completed", JSON.stringify(done));
  const { input_key, input_sha256 } = done.result as { input_key: string; input_sha256: string };
  return { input_key, input_sha256 };
}

test("another key cannot name an output as an input in any form; the refusal does not reveal whether it exists", async () => {
  const a = await makeImage(KEYS.alice, 10);
  const forms = [a.key, `artifact:${a.key}`, path.join(dir, a.key)];
  for (const form of forms) {
    assert.equal(refused(await detect(KEYS.bob, form)), "403 FORBIDDEN image owned_output", form);
  }
  // The same answer for a file that does not exist (another job id, and none at all).
  const ghost = `outputs/imgfix/${crypto.randomUUID()}.png`;
  assert.equal(refused(await detect(KEYS.bob, ghost)), "403 FORBIDDEN image owned_output");
  assert.equal(refused(await detect(KEYS.bob, `artifact:${ghost}`)), "403 FORBIDDEN image owned_output");
  assert.equal(refused(await detect(KEYS.bob, `outputs/imgfix/${a.id}.jpg`)), "403 FORBIDDEN image owned_output");
  // The message names no other tenant's data beyond what the caller sent.
  const msg = String((await detect(KEYS.bob, a.key)).body.message);
  assert.ok(!msg.includes("alice"), msg);
});

test("the raw-params route (POST /api/v1/jobs) refuses another key's outputs anywhere in params; the owner's and signed links pass", async () => {
  const a = await makeImage(KEYS.alice, 50);
  const raw = (key: string, params: Record<string, unknown>) => http(url, "POST", "/api/v1/jobs", { type: "face.detect", params }, as(key));
  assert.equal(refused(await raw(KEYS.bob, { image: a.key })), "403 FORBIDDEN params.image owned_output");
  assert.equal(refused(await raw(KEYS.bob, { image: "x", extra: [{ path: `artifact:${a.key}` }] })), "403 FORBIDDEN params.extra[0].path owned_output");
  assert.equal(refused(await raw(KEYS.bob, { image: a.link.split("?")[0] })), "403 FORBIDDEN params.image owned_output");
  const [p, q] = a.link.split("?") as [string, string];
  // Change the signature's first character to a different one (a fixed "_" was the same
  // character in 1 link of 64, and the "tampered" link was then valid: a CI failure).
  const tampered = q.replace(/sig=(.)/, (_m, c: string) => `sig=${c === "_" ? "-" : "_"}`);
  assert.notEqual(tampered, q);
  assert.equal(refused(await raw(KEYS.bob, { image: `${p}?${tampered}` })), "403 FORBIDDEN params.image signed_link");
  // Bob holding the signed link may pass it (the plugin gets it as given); alice passes her key.
  assert.equal((await raw(KEYS.bob, { note: a.link, image: "uploads/none.png" })).status, 202);
  const own = await raw(KEYS.alice, { image: a.key });
  assert.equal(own.status, 202, JSON.stringify(own.body));
  const done = await waitJob(url, String(own.body.job_id), 30_000, as(KEYS.alice));
  assert.equal((done.result as { input_sha256: string }).input_sha256, a.sha256);
});

test("the owner names its own outputs (key, reference, path); an admin names any; the job gets those very bytes", async () => {
  const a = await makeImage(KEYS.alice, 20);
  for (const form of [a.key, `artifact:${a.key}`, path.join(dir, a.key)]) {
    const got = await inputOf(await detect(KEYS.alice, form), KEYS.alice);
    assert.equal(got.input_sha256, a.sha256, form);
  }
  const byAdmin = await inputOf(await detect(KEYS.admin, a.key), KEYS.admin);
  assert.equal(byAdmin.input_key, a.key);
  assert.equal(byAdmin.input_sha256, a.sha256);
});

test("a signed output link is an input for whoever holds it (relative or absolute); a tampered or expired one is refused naming the field", async () => {
  const a = await makeImage(KEYS.alice, 30);
  assert.match(a.link, /^\/outputs\/imgfix\/.+\?exp=\d+&sig=/);
  const rel = await inputOf(await detect(KEYS.bob, a.link), KEYS.bob);
  assert.deepEqual(rel, { input_key: a.key, input_sha256: a.sha256 });
  const abs = await inputOf(await detect(KEYS.bob, url + a.link), KEYS.bob);
  assert.deepEqual(abs, { input_key: a.key, input_sha256: a.sha256 });

  const [p, q] = a.link.split("?") as [string, string];
  const params = new URLSearchParams(q);
  const sig = params.get("sig")!;
  const flipped = `${sig.slice(0, -1)}${sig.endsWith("A") ? "B" : "A"}`;
  assert.equal(refused(await detect(KEYS.bob, `${p}?exp=${params.get("exp")}&sig=${flipped}`)), "403 FORBIDDEN image signed_link");
  // The link of one file moved onto another (bob's own job id in the path does not help either).
  const b = await makeImage(KEYS.bob, 40);
  assert.equal(
    refused(
      await detect(
        KEYS.bob,
        `/outputs/imgfix/${a.id}.png?exp=${new URLSearchParams(b.link.split("?")[1]).get("exp")}&sig=${new URLSearchParams(b.link.split("?")[1]).get("sig")}`,
      ),
    ),
    "403 FORBIDDEN image signed_link",
  );
  const links = createOutputLinks({ outputs: { link_secret: SECRET, link_ttl_s: 600 }, auth: { enabled: true, allow_anonymous: false, keys: [] } });
  assert.equal(refused(await detect(KEYS.bob, links.sign(p, Date.now() - 3_600_000))), "403 FORBIDDEN image not_expired");
  // An absolute URL whose signature is not ours is an ordinary URL input (refused: http inputs are off).
  const forged = await detect(KEYS.bob, `${url}${p}?exp=${params.get("exp")}&sig=${flipped}`);
  assert.equal(forged.status, 400, JSON.stringify(forged.body));
  assert.equal((forged.body as { details?: { field?: string } }).details?.field, "image");
});

test("uploads are shared by content hash (a capability), and only an existing hash resolves", async () => {
  const png = await sharp({ create: { width: 9, height: 9, channels: 3, background: { r: 1, g: 99, b: 7 } } })
    .png()
    .toBuffer();
  const form = new FormData();
  form.append("file", new Blob([new Uint8Array(png)], { type: "image/png" }), "x.png");
  const up = await fetch(`${url}/api/v1/uploads?kind=image`, { method: "POST", body: form, headers: as(KEYS.alice) });
  assert.equal(up.status, 201);
  const { ref, key, sha256 } = (await up.json()) as { ref: string; key: string; sha256: string };
  for (const value of [ref, key]) {
    const got = await inputOf(await detect(KEYS.bob, value), KEYS.bob);
    assert.equal(got.input_sha256, sha256, value);
  }
  assert.equal(refused(await detect(KEYS.bob, `upload:${"0".repeat(64)}`)), "400 VALIDATION_ERROR image exists");
});

test("get, cancel and WebSocket of another key's job answer exactly what an unknown job id gets", async () => {
  const r = await http(url, "POST", "/api/v1/jobs", { type: "imgfix.make", params: {} }, as(KEYS.alice));
  const id = String(r.body.job_id);
  const ghost = crypto.randomUUID();
  const strip = (res: { status: number; body: Record<string, unknown> }, jobId: string) =>
    JSON.stringify({ status: res.status, ...res.body, message: String(res.body.message).replace(jobId, "<id>"), request_id: undefined, timestamp: undefined });
  for (const [method, suffix] of [
    ["GET", ""],
    ["POST", "/cancel"],
  ] as const) {
    const theirs = await http(url, method, `/api/v1/jobs/${id}${suffix}`, undefined, as(KEYS.bob));
    const none = await http(url, method, `/api/v1/jobs/${ghost}${suffix}`, undefined, as(KEYS.bob));
    assert.equal(refused(theirs), "404 NOT_FOUND job exists", `${method} ${suffix}`);
    assert.equal(strip(theirs, id), strip(none, ghost), `${method} ${suffix}`);
  }
  const ws = async (jobId: string) => {
    const got = await collectWs(`${url.replace("http", "ws")}/ws/${jobId}`, 60_000, as(KEYS.bob));
    const m = got.messages[0] ?? {};
    return { close: got.closeCode, n: got.messages.length, code: m.code, details: m.details, error: String(m.error).replace(jobId, "<id>") };
  };
  const theirs = await ws(id);
  assert.deepEqual(theirs, await ws(ghost));
  assert.equal(theirs.close, 1008);
  assert.equal(theirs.code, "NOT_FOUND");
  // The owner still cancels or reads it (it may have finished already: then 409 or 200).
  const own = await http(url, "POST", `/api/v1/jobs/${id}/cancel`, undefined, as(KEYS.alice));
  assert.ok(own.status === 200 || own.status === 409, JSON.stringify(own.body));
});
