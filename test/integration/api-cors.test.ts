/**
 * CORS against a real embedded farm with auth on: off by default (no headers), a listed
 * origin gets its preflight answered before auth and its real request authenticated, an
 * unlisted origin gets no CORS headers (the browser then blocks it).
 */
import { afterAll, beforeAll, describe, test } from "vitest";
import assert from "node:assert/strict";
import { startEmbeddedFarm, type TestFarm } from "../helpers/embedded-farm.ts";
import { hashKey } from "../../api/auth.ts";

const KEY = "nb-cors-key-0123456789";
const APP = "https://studio.example.com";
const auth = { enabled: true, keys: [{ name: "studio", sha256: hashKey(KEY), scopes: ["generate", "read"] }] };

const preflight = (url: string, origin: string) =>
  fetch(`${url}/api/v1/enhance/quick`, {
    method: "OPTIONS",
    headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" },
  });

describe("CORS configured", () => {
  let farm: TestFarm;
  beforeAll(async () => {
    farm = await startEmbeddedFarm({ agent: { plugins: ["enhance"] }, api: { auth, cors: { origins: [APP], max_age_s: 120 } } });
  });
  afterAll(async () => {
    await farm?.destroy();
  });

  test("a listed origin's preflight is answered 204 without credentials", async () => {
    const r = await preflight(farm.url, APP);
    assert.equal(r.status, 204);
    assert.equal(r.headers.get("access-control-allow-origin"), APP);
    assert.match(r.headers.get("access-control-allow-methods") ?? "", /POST/);
    assert.match(r.headers.get("access-control-allow-headers") ?? "", /authorization/);
    assert.equal(r.headers.get("access-control-max-age"), "120");
    assert.equal(r.headers.get("vary"), "Origin");
  });

  test("the real request is still authenticated, and carries the CORS headers either way", async () => {
    const body = JSON.stringify({ prompt: "a lighthouse" });
    const anon = await fetch(`${farm.url}/api/v1/enhance/quick`, { method: "POST", headers: { origin: APP, "content-type": "application/json" }, body });
    assert.equal(anon.status, 401);
    // The browser script must be able to read the 401 envelope, so the header is there too.
    assert.equal(anon.headers.get("access-control-allow-origin"), APP);
    const ok = await fetch(`${farm.url}/api/v1/enhance/quick`, {
      method: "POST",
      headers: { origin: APP, "content-type": "application/json", authorization: `Bearer ${KEY}` },
      body,
    });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get("access-control-allow-origin"), APP);
    assert.match(ok.headers.get("access-control-expose-headers") ?? "", /retry-after/);
    assert.equal(((await ok.json()) as { original_prompt: string }).original_prompt, "a lighthouse");
  });

  test("an unlisted origin gets no CORS headers and its preflight is not answered as allowed", async () => {
    const r = await preflight(farm.url, "https://evil.example.net");
    assert.notEqual(r.status, 204);
    assert.equal(r.headers.get("access-control-allow-origin"), null);
    const g = await fetch(`${farm.url}/health`, { headers: { origin: "https://evil.example.net" } });
    assert.equal(g.headers.get("access-control-allow-origin"), null);
  });
});

describe("CORS off by default", () => {
  let farm: TestFarm;
  beforeAll(async () => {
    farm = await startEmbeddedFarm({ agent: { plugins: ["enhance"] }, api: { auth } });
  });
  afterAll(async () => {
    await farm?.destroy();
  });

  test("no origin is allowed and no CORS header is sent", async () => {
    const r = await preflight(farm.url, APP);
    assert.notEqual(r.status, 204);
    assert.equal(r.headers.get("access-control-allow-origin"), null);
    const g = await fetch(`${farm.url}/health`, { headers: { origin: APP } });
    assert.equal(g.status, 200);
    assert.equal(g.headers.get("access-control-allow-origin"), null);
  });
});
