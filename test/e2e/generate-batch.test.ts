/**
 * /generate/batch on a distributed farm (real nats-server, redis-server, s3rver; every role
 * its own process): a parent job with one image.generate child per prompt, run by the
 * remote-image plugin on 3 agents against the local provider stand-in. Agent 1's provider
 * answers in 100 ms, agents 2 and 3's in 1200 ms: the faster one must take more children.
 * Covers prompt order, n-of-N progress on /ws/{parent}, a failed item, cancel cascading to
 * the children, and a coordinator killed (SIGKILL) mid-batch.
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import sharp from "sharp";
import { startLocalFarm, type LocalFarm } from "../../deploy/servers/farm-procs.ts";
import { collectWs, http, waitJob, waitStatus } from "../helpers/http.ts";
import { startProviderStandin, type ProviderStandin } from "../fixtures/remote-image/provider-standin.ts";

const GEM = "google/gemini-2.0-flash-exp:free";
/**
 * The providers' answer times. 1200 ms, not 400: on a loaded machine each child's own cost
 * (dispatch, reports, the S3 put) adds a second or more to both, and with 400 ms the fast
 * agent's lead could shrink to a tie.
 */
const FAST_MS = 100;
const SLOW_MS = 1200;
let farm: LocalFarm;
let fast: ProviderStandin;
let slow: ProviderStandin;

const pluginEnv = (sp: ProviderStandin) =>
  JSON.stringify({
    retry_base_ms: 50,
    providers: { openrouter: { protocol: "openrouter-chat", base_url: `${sp.url}/api/v1`, api_key_env: "NB_TEST_OPENROUTER_KEY", models: { [GEM]: GEM } } },
  });

beforeAll(async () => {
  [fast, slow] = await Promise.all([startProviderStandin({ delayMs: FAST_MS }), startProviderStandin({ delayMs: SLOW_MS })]);
  farm = await startLocalFarm({
    startTimeoutMs: 180_000, // seven processes starting on a busy shared 2-core machine
    agents: 3,
    env: {
      FARM_AGENT__PLUGINS: '["remote-image"]',
      FARM_AGENT__MAX_CONCURRENT_JOBS: "1", // one "GPU" each
      FARM_AGENT__TELEMETRY_INTERVAL_MS: "300",
      FARM_AGENT__CANCEL_GRACE_MS: "300",
      FARM_COORDINATOR__LEASE_MS: "8000",
      FARM_COORDINATOR__SWEEP_INTERVAL_MS: "250",
      FARM_API__RATE_LIMITS__ENABLED: "false",
      NB_TEST_OPENROUTER_KEY: fast.key, // both stand-ins use the same default key
    },
    agentEnv: (i) => ({ "FARM_PLUGINS__REMOTE-IMAGE": pluginEnv(i === 1 ? fast : slow) }),
  });
});

afterAll(async () => {
  await farm?.stop();
  await Promise.all([fast?.close(), slow?.close()]);
});

const batch = async (prompts: string[]) => {
  const r = await http(farm.url, "POST", "/api/v1/generate/batch", { prompts, shared_settings: { model: GEM, width: 512, height: 512 } });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  return r.body as { job_id: string; status: string; status_url: string; ws_url: string; jobs: { job_id: string; status: string; prompt: string }[] };
};

type Item = {
  index: number;
  prompt: string;
  job_id: string;
  status: string;
  image_url?: string;
  metadata?: Record<string, unknown>;
  error?: { code: string; message: string };
};

test("a batch of 20 over 3 agents: one parent, results in prompt order, n of N on the parent's WebSocket, the faster agent takes more", async () => {
  const prompts = Array.from({ length: 20 }, (_, i) => `prompt number ${i}`);
  const b = await batch(prompts);
  assert.equal(b.status_url, `/api/v1/jobs/${b.job_id}`);
  assert.equal(b.ws_url, `/ws/${b.job_id}`);
  assert.deepEqual(
    b.jobs.map((j) => j.job_id),
    prompts.map((_, i) => `${b.job_id}-${i}`),
  );
  assert.deepEqual(
    b.jobs.map((j) => j.prompt),
    prompts,
  );
  const ws = collectWs(`${farm.url.replace("http", "ws")}/ws/${b.job_id}`, 60_000);
  const done = await waitJob(farm.url, b.job_id, 60_000);
  assert.equal(done.status, "completed", JSON.stringify(done));
  assert.equal(done.type, "image.batch");
  const result = done.result as { items: Item[]; total: number; completed: number; failed: number };
  assert.equal(result.completed, 20);
  assert.deepEqual(
    result.items.map((it) => it.prompt),
    prompts,
  );
  assert.deepEqual(
    result.items.map((it) => it.job_id),
    b.jobs.map((j) => j.job_id),
  );
  for (const it of result.items) {
    assert.equal(it.image_url, `/outputs/images/${it.job_id}.png`);
    assert.equal(it.metadata?.model, GEM);
  }
  // The image is really in the object store, served by the API.
  const img = await fetch(`${farm.url}${result.items[7]!.image_url}`);
  assert.equal(img.status, 200);
  assert.equal((await sharp(Buffer.from(await img.arrayBuffer())).metadata()).format, "png");

  const msgs = (await ws).messages;
  const progress = msgs.filter((m) => m.type === "progress" && /of 20 done/.test(String(m.message)));
  assert.ok(progress.length >= 10, `n-of-N progress on the parent's stream: ${JSON.stringify(msgs.slice(0, 5))}`);
  assert.equal(msgs.at(-1)?.type, "completed");

  const byNode = new Map<string, number>();
  for (const j of b.jobs) {
    const child = (await http(farm.url, "GET", `/api/v1/jobs/${j.job_id}`)).body;
    byNode.set(String(child.node_id), (byNode.get(String(child.node_id)) ?? 0) + 1);
  }
  const f = byNode.get("agent-1") ?? 0;
  assert.ok(f > (byNode.get("agent-2") ?? 0) && f > (byNode.get("agent-3") ?? 0), `the fast agent takes more: ${JSON.stringify([...byNode])}`);
  assert.equal(
    [...byNode.values()].reduce((a, c) => a + c, 0),
    20,
  );
});

test("a failed item is reported in its place; the batch still completes", async () => {
  const b = await batch(["a calm lake", "something [policy] refuses", "a quiet forest"]);
  const done = await waitJob(farm.url, b.job_id, 30_000);
  assert.equal(done.status, "completed");
  const r = done.result as { items: Item[]; failed: number };
  assert.deepEqual(
    r.items.map((it) => it.status),
    ["completed", "failed", "completed"],
  );
  assert.equal(r.items[1]!.error?.code, "EXTERNAL_API_ERROR");
  assert.match(r.items[1]!.error!.message, /HTTP 403: Input was flagged by moderation/);
  assert.equal(r.failed, 1);
  assert.equal(done.message, "2 of 3 completed, 1 failed");
});

test("cancelling the batch cancels its children", async () => {
  slow.delayMs = fast.delayMs = 1500;
  try {
    const b = await batch(Array.from({ length: 8 }, (_, i) => `slow ${i}`));
    await waitStatus(farm.url, `${b.job_id}-0`, "running", 60_000);
    const c = await http(farm.url, "POST", `/api/v1/jobs/${b.job_id}/cancel`);
    assert.equal(c.status, 200, JSON.stringify(c.body));
    const done = await waitJob(farm.url, b.job_id, 20_000);
    assert.equal(done.status, "cancelled");
    assert.equal(done.error_code, "JOB_CANCELLED");
    for (const j of b.jobs) {
      const child = (await http(farm.url, "GET", `/api/v1/jobs/${j.job_id}`)).body;
      assert.ok(["cancelled", "completed"].includes(String(child.status)), `${j.job_id}: ${String(child.status)}`);
    }
    const items = (done.result as { items: Item[] }).items;
    assert.ok(items.filter((it) => it.status === "cancelled").length >= 5, JSON.stringify(items.map((i) => i.status)));
  } finally {
    slow.delayMs = SLOW_MS;
    fast.delayMs = FAST_MS;
  }
});

test("the coordinator killed with SIGKILL mid-batch: the restarted one finishes the batch from the store", async () => {
  const prompts = Array.from({ length: 12 }, (_, i) => `restart ${i}`);
  const b = await batch(prompts);
  await waitStatus(farm.url, `${b.job_id}-2`, "running", 15_000).catch(() => undefined);
  await farm.restartCoordinator();
  const done = await waitJob(farm.url, b.job_id, 60_000);
  assert.equal(done.status, "completed", JSON.stringify(done));
  const r = done.result as { items: Item[]; completed: number };
  assert.deepEqual(
    r.items.map((it) => it.prompt),
    prompts,
  );
  assert.equal(r.completed, 12);
});
