/**
 * Rate limits: in embedded mode the counters are in memory, per route group and per
 * client; in distributed mode they live in Redis, so every API process shares one
 * budget per client. The distributed half runs two real front doors (buildApi) on a
 * real redis-server with a small stub farm behind them: this test is about counters.
 */
import { afterAll, beforeAll, describe, test } from "vitest";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import { Redis } from "ioredis";
import { startEmbeddedFarm, type TestFarm } from "../helpers/embedded-farm.ts";
import { http, type HttpResult } from "../helpers/http.ts";
import { assertEnvelope } from "./api-fixtures.ts";
import { hashKey } from "../../api/auth.ts";
import { buildApi } from "../../api/server.ts";
import { JobEventBus, type FarmClient, type JobListFilter } from "../../api/farm-client.ts";
import { loadConfig } from "../../core/config/load.ts";
import { FsArtifactStore } from "../../core/artifacts/fs-store.ts";
import { silentLogger } from "../../core/logger.ts";
import { FarmError } from "../../core/errors.ts";
import type { JobRecord, SubmitJobInput } from "../../core/job.ts";
import { startRedis, type ServerHandle } from "../../deploy/servers/infra.ts";

/** A 429 in the spec's envelope with a usable Retry-After (whole seconds within the window). */
function assertLimited(r: HttpResult, windowS: number): void {
  const d = assertEnvelope(r, 429, "RATE_LIMITED", "client");
  const retry = Number(r.headers.get("retry-after"));
  assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= windowS, `Retry-After: ${r.headers.get("retry-after")}`);
  assert.equal(d.retry_after_s, retry);
}

describe("embedded mode: in-memory limits per group and per client", () => {
  const ALICE = "rl-alice-key-0123456789";
  const BOB = "rl-bob-key-0123456789";
  let farm: TestFarm;
  beforeAll(async () => {
    farm = await startEmbeddedFarm({
      agent: { plugins: ["diag", "enhance"] },
      api: {
        auth: {
          enabled: true,
          keys: [
            { name: "alice", sha256: hashKey(ALICE), scopes: ["generate", "read"] },
            { name: "bob", sha256: hashKey(BOB), scopes: ["generate", "read"] },
          ],
        },
        rate_limits: { window_s: 60, enhance: 3 },
      },
    });
  });
  afterAll(async () => {
    await farm?.destroy();
  });

  test("the 4th enhance request in the window gets 429 with Retry-After; other groups and other keys are unaffected", async () => {
    const alice = { authorization: `Bearer ${ALICE}` };
    for (let i = 0; i < 3; i++) {
      const r = await http(farm.url, "POST", "/api/v1/enhance/quick", { prompt: `a lighthouse ${i}` }, alice);
      assert.equal(r.status, 200, `request ${i + 1}: ${JSON.stringify(r.body)}`);
      assert.equal(r.headers.get("x-ratelimit-limit"), "3");
    }
    assertLimited(await http(farm.url, "POST", "/api/v1/enhance/prompt", { prompt: "one too many" }, alice), 60);
    // The whole /enhance/* family shares the group's budget.
    assertLimited(await http(farm.url, "GET", "/api/v1/enhance/styles", undefined, alice), 60);

    // Another group (default) for the same key is untouched.
    const jobs = await http(farm.url, "POST", "/api/v1/jobs", { type: "diag.echo", params: {} }, alice);
    assert.equal(jobs.status, 202, JSON.stringify(jobs.body));
    assert.equal((await http(farm.url, "GET", "/api/v1/jobs/list", undefined, alice)).status, 200);

    // Another key has its own enhance budget.
    const bob = { "x-api-key": BOB };
    for (let i = 0; i < 3; i++) {
      const r = await http(farm.url, "POST", "/api/v1/enhance/quick", { prompt: `bob's idea ${i}` }, bob);
      assert.equal(r.status, 200, `bob request ${i + 1}: ${JSON.stringify(r.body)}`);
    }
    assertLimited(await http(farm.url, "POST", "/api/v1/enhance/quick", { prompt: "bob again" }, bob), 60);
  });
});

/** Just enough farm for the front door: diag jobs are accepted and remembered; anything else has no capability. */
class StubFarm implements FarmClient {
  readonly events = new JobEventBus();
  readonly jobs = new Map<string, JobRecord>();
  async submit(input: SubmitJobInput): Promise<JobRecord> {
    if (!input.type.startsWith("diag.")) {
      throw new FarmError("CAPABILITY_UNAVAILABLE", `no live node offers job type '${input.type}'`, {
        field: "type",
        constraint: "capability",
        job_type: input.type,
      });
    }
    const now = Date.now();
    const job: JobRecord = {
      id: randomUUID(),
      type: input.type,
      params: input.params ?? {},
      priority: input.priority ?? 0,
      status: "pending",
      progress: 0,
      created_at: now,
      updated_at: now,
      attempts: 0,
      max_attempts: 3,
      requirements: {},
      history: [{ at: now, event: "submitted" }],
      ...(input.owner !== undefined ? { owner: input.owner } : {}),
    };
    this.jobs.set(job.id, job);
    return job;
  }
  async get(id: string): Promise<JobRecord> {
    const j = this.jobs.get(id);
    if (!j) throw new FarmError("NOT_FOUND", `job '${id}' not found`, { field: "job_id", constraint: "exists" });
    return j;
  }
  async list(f: JobListFilter) {
    const all = [...this.jobs.values()].reverse();
    return { jobs: all.slice(f.offset, f.offset + f.limit), total: all.length };
  }
  async cancel(id: string): Promise<JobRecord> {
    return this.get(id);
  }
  async why(id: string) {
    return { job_id: id };
  }
  async status() {
    return { nodes: [] };
  }
  async nodes() {
    return [];
  }
  async drain(nodeId: string) {
    return { node_id: nodeId, draining: true };
  }
  async undrain(nodeId: string) {
    return { node_id: nodeId, draining: false };
  }
  async unblock(nodeId: string) {
    return { node_id: nodeId, blocklisted: {} };
  }
}

describe("distributed mode: counters shared through a real Redis", () => {
  let redis: ServerHandle;
  const apps: FastifyInstance[] = [];
  const clients: Redis[] = [];
  const dirs: string[] = [];
  const prefix = `nbtest-${process.pid}-${Date.now()}:`;

  beforeAll(async () => {
    redis = await startRedis();
    const config = loadConfig({
      file: null,
      env: {},
      overrides: {
        mode: "distributed",
        log_level: "silent",
        redis: { url: redis.url, prefix },
        api: { rate_limits: { window_s: 60, default: 5, enhance: 2 } },
      },
    });
    for (let i = 0; i < 2; i++) {
      const client = new Redis(redis.url, { maxRetriesPerRequest: 2 });
      clients.push(client);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nb-rl-artifacts-"));
      dirs.push(dir);
      const app = await buildApi({ config, farm: new StubFarm(), artifacts: new FsArtifactStore(dir), logger: silentLogger, redis: client });
      await app.ready();
      apps.push(app);
    }
  });
  afterAll(async () => {
    for (const a of apps) await a.close().catch(() => {});
    for (const c of clients) await c.quit().catch(() => {});
    await redis?.stop();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  const call = async (app: FastifyInstance, method: "GET" | "POST", url: string, payload?: unknown): Promise<HttpResult> => {
    const r = await app.inject({ method, url, ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}) });
    const headers = new Headers();
    for (const [k, v] of Object.entries(r.headers)) if (v !== undefined) headers.set(k, String(v));
    return { status: r.statusCode, body: r.json() as Record<string, unknown>, headers };
  };

  test("requests split across two API instances share one budget; other groups keep theirs", async () => {
    const [a, b] = apps as [FastifyInstance, FastifyInstance];
    const order = [a, b, a, b, a];
    for (const [i, app] of order.entries()) {
      const r = await call(app, "POST", "/api/v1/jobs", { type: "diag.echo", params: { i } });
      assert.equal(r.status, 202, `request ${i + 1}: ${JSON.stringify(r.body)}`);
      assert.equal(r.headers.get("x-ratelimit-remaining"), String(4 - i), "the remaining count spans both instances");
    }
    assertLimited(await call(b, "POST", "/api/v1/jobs", { type: "diag.echo" }), 60);
    assertLimited(await call(a, "GET", "/api/v1/jobs/list"), 60);

    // The enhance group has its own (shared) budget of 2.
    assert.equal((await call(b, "GET", "/api/v1/enhance/styles")).status, 200);
    assert.equal((await call(a, "GET", "/api/v1/enhance/styles")).status, 200);
    assertLimited(await call(b, "GET", "/api/v1/enhance/styles"), 60);

    // The counters really are in Redis, under the configured prefix.
    const keys = await clients[0]!.keys(`${prefix}rl:*`);
    assert.ok(keys.length >= 2, `rate-limit keys in redis: ${JSON.stringify(keys)}`);
  });
});
