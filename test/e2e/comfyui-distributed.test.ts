/**
 * ComfyUI work on a distributed farm: API, coordinator and two agents as their own processes
 * over real nats-server, redis-server and s3rver; each agent attached to its own ComfyUI
 * stand-in (test/fixtures/comfyui/standin.ts). Outputs travel through S3 and come back at
 * image_url / video_url.
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import sharp from "sharp";
import { startLocalFarm, type LocalFarm } from "../../deploy/servers/farm-procs.ts";
import { ComfyStandin } from "../fixtures/comfyui/standin.ts";
import { http } from "../helpers/http.ts";

const WEIGHTS = { checkpoints: ["sd_xl_base_1.0.safetensors", "ltxv-13b-0.9.7-distilled-fp8.safetensors"], text_encoders: ["t5xxl_fp16.safetensors"] };
let farm: LocalFarm;
let comfy: ComfyStandin[] = [];

beforeAll(async () => {
  comfy = [await new ComfyStandin({ models: WEIGHTS, stepMs: 20 }).start(), await new ComfyStandin({ models: WEIGHTS, stepMs: 20 }).start()];
  farm = await startLocalFarm({
    agents: 2,
    env: {
      FARM_AGENT__PLUGINS: '["comfyui"]',
      FARM_AGENT__GPU_PROBE: "none",
      FARM_AGENT__TELEMETRY_INTERVAL_MS: "300",
      FARM_API__RATE_LIMITS__ENABLED: "false",
      FARM_PLUGINS__COMFYUI__HEALTH_INTERVAL_MS: "200",
    },
    // Agents are numbered from 1 (agent-1, agent-2).
    agentEnv: (i) => ({ FARM_PLUGINS__COMFYUI__INSTANCES: JSON.stringify([{ url: comfy[i - 1]!.url, gpu_index: 0 }]) }),
  });
  await farm.waitForAgents(2, 60_000);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const nodes = (await http<{ nodes: { report?: { models?: Record<string, string[]> } }[] }>(farm.url, "GET", "/api/v1/farm/nodes")).body.nodes;
    if (nodes.filter((n) => n.report?.models?.["image.generate"]?.includes("sdxl-base-1.0")).length === 2) break;
    if (Date.now() > deadline) throw new Error(`agents never offered sdxl: ${JSON.stringify(nodes)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
});

afterAll(async () => {
  await farm?.stop();
  for (const c of comfy) await c.stop();
});

test("image jobs spread over two agents' ComfyUI instances; each PNG is served from S3 at its image_url", async () => {
  const sizes = [
    [512, 512],
    [768, 512],
    [512, 768],
    [640, 640],
    [1024, 1024],
    [576, 832],
  ] as const;
  const res = await Promise.all(
    sizes.map(([w, h], i) => http(farm.url, "POST", "/api/v1/generate/image", { prompt: `distributed ${i}`, width: w, height: h, seed: 100 + i })),
  );
  for (const [i, r] of res.entries()) {
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const b = r.body as { image_url: string; metadata: { resolution: string; seed: number } };
    assert.equal(b.metadata.resolution, `${sizes[i]![0]}x${sizes[i]![1]}`);
    assert.equal(b.metadata.seed, 100 + i);
    const png = Buffer.from(await (await fetch(farm.url + b.image_url)).arrayBuffer());
    const meta = await sharp(png).metadata();
    assert.deepEqual([meta.width, meta.height], [sizes[i]![0], sizes[i]![1]]);
  }
  assert.ok(
    comfy.every((c) => c.prompts.length > 0),
    `both instances ran prompts: ${comfy.map((c) => c.prompts.length).join(", ")}`,
  );
});

test("a video job through the distributed farm: MP4 from S3 with the requested frames", async () => {
  const r = await http(farm.url, "POST", "/api/v1/video/generate", { prompt: "clouds", num_frames: 25, fps: 24, width: 320, height: 192 });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const b = r.body as { video_url: string; metadata: Record<string, unknown> };
  assert.deepEqual([b.metadata.frame_count, b.metadata.fps, b.metadata.resolution], [25, 24, "320x192"]);
  const res = await fetch(farm.url + b.video_url);
  assert.equal(res.status, 200);
  const mp4 = Buffer.from(await res.arrayBuffer());
  assert.equal(mp4.subarray(4, 8).toString("latin1"), "ftyp", "an MP4 file");
});
