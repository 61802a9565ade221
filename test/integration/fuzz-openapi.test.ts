/**
 * A seeded fuzzer over the OpenAPI document (bench/fuzz): 2,000 hostile requests against an
 * embedded farm in this process: malformed JSON, wrong types, huge and deeply nested bodies,
 * prototype-pollution keys, NUL and odd unicode, path traversal, URL inputs to loopback
 * (a canary listener counts connections), decompression bombs, truncated, zero-length and
 * lying media, multipart uploads. Every answer must be a 2xx or a 4xx in the spec's
 * envelope; no 5xx, no hang, no leak, no connection to the canary, no polluted prototype.
 * The full 10,000-request run is `npm run bench -- fuzz`. Single cases that once failed
 * are pinned below by name.
 */
import { afterAll, beforeAll, describe, test } from "vitest";
import assert from "node:assert/strict";
import net from "node:net";
import { startEmbeddedFarm, type TestFarm } from "../helpers/embedded-farm.ts";
import { http, waitJob } from "../helpers/http.ts";
import { makeHostileMedia, type HostileMedia } from "../../bench/fuzz/hostile-media.ts";
import { runFuzz, startCanary, figuresTable } from "../../bench/fuzz/runner.ts";
import { fuzzFarmOverrides, FUZZ_BODY_LIMIT_MB } from "../../bench/fuzz/farm-config.ts";

let farm: TestFarm;
let canary: Awaited<ReturnType<typeof startCanary>>;
const media: HostileMedia[] = [];
const goodMedia: HostileMedia[] = [];

beforeAll(async () => {
  media.push(...(await makeHostileMedia(goodMedia)));
  canary = await startCanary();
  farm = await startEmbeddedFarm(fuzzFarmOverrides);
});
afterAll(async () => {
  await farm?.destroy();
  await canary?.close();
});

describe("OpenAPI fuzzer, 2,000 seeded requests", () => {
  test("no 5xx, no unclean 4xx, no hang, no leak, no SSRF, no crash, no polluted prototype", async () => {
    let uncaught = 0;
    const onUncaught = () => {
      uncaught++;
    };
    process.on("uncaughtException", onUncaught);
    try {
      const f = await runFuzz(
        { baseUrl: farm.url, openapi: farm.app!.swagger(), alive: () => uncaught === 0 },
        {
          seed: 20261204,
          requests: 2000,
          concurrency: 8,
          maxSeconds: 600,
          canaryPort: canary.port,
          context: { media, goodMedia, bodyLimitBytes: FUZZ_BODY_LIMIT_MB * 1024 * 1024 },
        },
      );
      f.canaryConnections = canary.connections();
      const report = `${figuresTable(f)}\n${f.failures.map((x) => JSON.stringify(x)).join("\n")}`;
      console.log(report);
      assert.equal(f.tried, 2000, report);
      assert.equal(f.server5xx, 0, report);
      assert.equal(f.unclean4xx, 0, report);
      assert.equal(f.noAnswer, 0, report);
      assert.equal(f.leaks, 0, report);
      assert.equal(f.canaryConnections, 0, report);
      assert.equal(f.crashed, false, report);
      assert.equal(uncaught, 0);
      // The pollution keys in bodies and queries reached no prototype.
      assert.equal(({} as Record<string, unknown>).fuzz_polluted, undefined);
      assert.equal(({} as Record<string, unknown>).isAdmin, undefined);
      // Every kind of hostile input was tried, and most answers were the envelope.
      for (const [kind, k] of Object.entries(f.byKind)) assert.ok(k.tried >= 20, `${kind}: only ${k.tried} tried`);
      assert.ok(f.clean4xx > f.tried / 2, report);
      // The farm still works afterwards (ahead of the fuzz jobs still queued, hence the priority).
      const ok = await http(farm.url, "POST", "/api/v1/jobs", { type: "diag.echo", params: { x: 1 }, priority: 100 });
      assert.equal(ok.status, 202, JSON.stringify(ok.body));
      const done = await waitJob(farm.url, String(ok.body.job_id), 120_000);
      assert.equal(done.status, "completed", JSON.stringify(done));
    } finally {
      process.off("uncaughtException", onUncaught);
    }
  });
});

describe("cases the fuzzer found", () => {
  test("a multipart part named __proto__ answers 400 naming file (it was a 500 INTERNAL_ERROR)", async () => {
    const boundary = "zzfuzz";
    const body = `--${boundary}\r\nContent-Disposition: form-data; name="__proto__"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n0000\r\n--${boundary}--\r\n`;
    const r = await http(farm.url, "POST", "/api/v1/uploads", body, { "content-type": `multipart/form-data; boundary=${boundary}` });
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.equal(r.body.code, "VALIDATION_ERROR");
    assert.deepEqual(r.body.details, { field: "file", constraint: "part_name" });
  });

  test("a plain GET of /ws/{job_id} answers 400 naming the upgrade (it was a 404 with an empty body)", async () => {
    const r = await http(farm.url, "GET", "/ws/some-job");
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.equal(r.body.code, "VALIDATION_ERROR");
    assert.deepEqual(r.body.details, { field: "upgrade", constraint: "websocket" });
  });

  test("a request line over 16 KB answers 431 HEADERS_TOO_LARGE in the envelope (it was Fastify's own shape)", async () => {
    const { port } = new URL(farm.url);
    const raw = await new Promise<string>((resolve, reject) => {
      const s = net.connect(Number(port), "127.0.0.1");
      let out = "";
      s.on("data", (d) => {
        out += d;
      });
      s.on("close", () => resolve(out));
      s.on("error", reject);
      s.write(`GET /api/v1/jobs/list?${"x".repeat(20_000)}=1 HTTP/1.1\r\nHost: x\r\n\r\n`);
    });
    assert.match(raw, /^HTTP\/1\.1 431 /);
    const body = JSON.parse(raw.split("\r\n\r\n")[1]!) as Record<string, unknown>;
    assert.equal(body.error, true);
    assert.equal(body.code, "HEADERS_TOO_LARGE");
    assert.deepEqual(body.details, { field: "headers", constraint: "max_size" });
    assert.equal(typeof body.timestamp, "string");
  });
});
