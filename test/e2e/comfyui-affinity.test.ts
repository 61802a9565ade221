/**
 * Warm-model affinity over ComfyUI: two stand-in instances are two GPUs of one node. Once
 * SDXL is resident on one GPU (the agent bound it there on load), consecutive SDXL jobs land
 * on that GPU's instance, while another model goes to the GPU with room.
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import { ComfyStandin } from "../fixtures/comfyui/standin.ts";
import { startEmbeddedFarm, type TestFarm } from "../helpers/embedded-farm.ts";
import { http } from "../helpers/http.ts";

const WEIGHTS = { checkpoints: ["sd_xl_base_1.0.safetensors", "sd_xl_turbo_1.0_fp16.safetensors"] };
let gpus: ComfyStandin[] = [];
let farm: TestFarm;

beforeAll(async () => {
  gpus = [await new ComfyStandin({ models: WEIGHTS, vramMb: 24564 }).start(), await new ComfyStandin({ models: WEIGHTS, vramMb: 24564 }).start()];
  farm = await startEmbeddedFarm({
    agent: { plugins: ["comfyui"], gpu_probe: "none", max_concurrent_jobs: 1 },
    plugins: { comfyui: { instances: gpus.map((g, i) => ({ url: g.url, gpu_index: i })), health_interval_ms: 100 } },
  });
  const deadline = Date.now() + 15_000;
  for (;;) {
    const nodes = (await http<{ nodes: { report?: { models?: Record<string, string[]>; gpus?: unknown[] } }[] }>(farm.url, "GET", "/api/v1/farm/nodes")).body
      .nodes;
    const r = nodes[0]?.report;
    if (r?.models?.["image.generate"]?.includes("sdxl-turbo") && r.gpus?.length === 2) break;
    if (Date.now() > deadline) throw new Error(`not offered: ${JSON.stringify(nodes)}`);
    await new Promise((res) => setTimeout(res, 50));
  }
});

afterAll(async () => {
  await farm?.destroy();
  for (const g of gpus) await g.stop();
});

/** Run one image job; returns the index of the instance (GPU) whose ComfyUI ran it. */
async function runOn(model: string, size: number): Promise<number> {
  const before = gpus.map((g) => g.prompts.length);
  const r = await http(farm.url, "POST", "/api/v1/generate/image", { prompt: `a ${model} test`, model, width: size, height: size, seed: 5 });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const ran = gpus.map((g, i) => (g.prompts.length > before[i]! ? i : -1)).filter((i) => i >= 0);
  assert.equal(ran.length, 1, "exactly one instance ran it");
  return ran[0]!;
}

/** The models the coordinator believes resident, as [model, gpu], sorted by gpu. */
async function resident(): Promise<[string, number][]> {
  const status = (await http<{ nodes: { report: { resident: { model_id: string; gpu_index: number }[] } }[] }>(farm.url, "GET", "/api/v1/farm/status")).body;
  return status.nodes[0]!.report.resident.map((r): [string, number] => [r.model_id, r.gpu_index]).sort((a, b) => a[1] - b[1]);
}

/** Wait (30 s at most: a loaded machine's heartbeats come late) until the coordinator knows `want` resident. */
async function residentUntil(want: [string, number][]): Promise<[string, number][]> {
  let got = await resident();
  for (const t0 = Date.now(); JSON.stringify(got) !== JSON.stringify(want) && Date.now() - t0 < 30_000; got = await resident())
    await new Promise((res) => setTimeout(res, 100));
  return got;
}

/**
 * Wait (30 s at most) until the coordinator's view of the node shows GPU `busy` using more VRAM
 * than the other: the free VRAM a cold model is placed by comes from ComfyUI's /system_stats,
 * polled apart from the residency the agent reports, so a loaded machine's heartbeat can carry
 * the residency before the VRAM figure that follows it.
 */
async function usesMoreVram(busy: number): Promise<boolean> {
  const used = async () =>
    (await http<{ nodes: { report: { gpus: { index: number; memory_used_mb: number }[] } }[] }>(farm.url, "GET", "/api/v1/farm/status")).body.nodes[0]!.report
      .gpus;
  for (const t0 = Date.now(); Date.now() - t0 < 30_000; await new Promise((res) => setTimeout(res, 100))) {
    const g = await used();
    const mine = g.find((x) => x.index === busy)?.memory_used_mb ?? 0;
    if (g.every((x) => x.index === busy || x.memory_used_mb < mine)) return true;
  }
  return false;
}

test("consecutive SDXL jobs land on the GPU that holds SDXL; another model goes to the other GPU", async () => {
  const first = await runOn("sdxl-base-1.0", 1024);
  // The coordinator learns residency from the heartbeat that follows the job.
  assert.deepEqual(await residentUntil([["sdxl-base-1.0", first]]), [["sdxl-base-1.0", first]]);
  for (let i = 0; i < 4; i++) assert.equal(await runOn("sdxl-base-1.0", 1024), first, `SDXL job ${i + 2} on GPU ${first}`);
  assert.ok(await usesMoreVram(first), `the coordinator sees GPU ${first} holding SDXL's VRAM`);
  const turbo = await runOn("sdxl-turbo", 512);
  assert.notEqual(turbo, first, "a cold model goes to the GPU with more free VRAM");
  const both: [string, number][] = [
    ["sdxl-base-1.0", first],
    ["sdxl-turbo", turbo],
  ];
  both.sort((a, b) => a[1] - b[1]);
  assert.deepEqual(await residentUntil(both), both);
  assert.equal(await runOn("sdxl-base-1.0", 1024), first, "SDXL stays on its warm GPU after a turbo job");
  assert.equal(await runOn("sdxl-turbo", 512), turbo, "turbo is now warm on its own GPU too");
});
