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

test("consecutive SDXL jobs land on the GPU that holds SDXL; another model goes to the other GPU", async () => {
  const first = await runOn("sdxl-base-1.0", 1024);
  // The coordinator learns residency from the heartbeat that follows the job.
  await new Promise((res) => setTimeout(res, 700));
  const status = (await http<{ nodes: { report: { resident: { model_id: string; gpu_index: number }[] } }[] }>(farm.url, "GET", "/api/v1/farm/status")).body;
  assert.deepEqual(
    status.nodes[0]!.report.resident.map((r) => [r.model_id, r.gpu_index]),
    [["sdxl-base-1.0", first]],
  );
  for (let i = 0; i < 4; i++) assert.equal(await runOn("sdxl-base-1.0", 1024), first, `SDXL job ${i + 2} on GPU ${first}`);
  const turbo = await runOn("sdxl-turbo", 512);
  assert.notEqual(turbo, first, "a cold model goes to the GPU with more free VRAM");
  await new Promise((res) => setTimeout(res, 700));
  assert.equal(await runOn("sdxl-base-1.0", 1024), first, "SDXL stays on its warm GPU after a turbo job");
  assert.equal(await runOn("sdxl-turbo", 512), turbo, "turbo is now warm on its own GPU too");
});
