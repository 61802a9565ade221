/**
 * `farmctl models` against an embedded farm whose agent runs the comfyui plugin (attached to
 * the ComfyUI stand-in, which has only the SDXL base weights) and diag: every catalog model
 * per node, offered or absent with the node's own reason, plus plugin models not in the catalog.
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import { ComfyStandin } from "../fixtures/comfyui/standin.ts";
import { startEmbeddedFarm, type TestFarm } from "../helpers/embedded-farm.ts";
import { http } from "../helpers/http.ts";
import { runFarmctl, type FarmctlResult } from "../helpers/farmctl.ts";
import type { ModelRow } from "../../cli/models.ts";

let standin: ComfyStandin;
let farm: TestFarm;

beforeAll(async () => {
  standin = await new ComfyStandin({ models: { checkpoints: ["sd_xl_base_1.0.safetensors"] } }).start();
  farm = await startEmbeddedFarm({
    agent: { plugins: ["comfyui", "diag"], gpu_probe: "none" },
    plugins: { comfyui: { instances: [{ url: standin.url, gpu_index: 0 }], health_interval_ms: 100 } },
  });
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const n = (await http<{ nodes: { report?: { models?: Record<string, string[]> } }[] }>(farm.url, "GET", "/api/v1/farm/nodes")).body.nodes;
    if (n[0]?.report?.models?.["image.generate"]?.includes("sdxl-base-1.0")) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("sdxl-base-1.0 never offered");
});
afterAll(async () => {
  await farm?.destroy();
  await standin?.stop();
});

function farmctl(args: string[]): Promise<FarmctlResult> {
  return runFarmctl([...args, "--url", farm.url]);
}

test("farmctl models lists every model per node: offered, or absent with why", async () => {
  const j = await farmctl(["models", "--json"]);
  assert.equal(j.code, 0, j.err);
  const rows = (JSON.parse(j.out) as { models: ModelRow[] }).models;
  const node = rows.find((r) => r.model === "sdxl-base-1.0")!.node!;
  const byModel = (id: string) => rows.filter((r) => r.model === id);
  assert.deepEqual(
    byModel("sdxl-base-1.0").map((r) => [r.node, r.state, r.runtime, r.vram_mb]),
    [[node, "offered", "comfyui", 10240]],
  );
  const flux = byModel("flux.1-schnell");
  assert.deepEqual(
    flux.map((r) => [r.node, r.state]),
    [[node, "absent"]],
  );
  assert.match(flux[0]!.why, /^comfyui: ComfyUI on GPU 0 \(http:\/\/127\.0\.0\.1:\d+\): flux1-schnell-fp8\.safetensors is not in models\/checkpoints/);
  assert.equal(byModel("ltx-video-0.9.7-distilled")[0]!.state, "absent");
  // Plugin models outside the catalog are listed from what the node offers.
  assert.deepEqual(
    byModel("diag-small").map((r) => [r.state, r.runtime]),
    [["offered", "-"]],
  );

  const human = await farmctl(["models"]);
  assert.equal(human.code, 0, human.err);
  const lines = human.out.trim().split("\n");
  assert.match(lines[0]!, /^MODEL\s+RUNTIME\s+JOB TYPES\s+VRAM\s+NODE\s+STATE\s+WHY ABSENT$/);
  assert.ok(
    lines.some((l) => /^sdxl-base-1\.0\s+comfyui\s+image\.generate\s+10\.0G\s+\S+\s+offered\s+-$/.test(l)),
    human.out,
  );
  assert.ok(
    lines.some((l) => /^flux\.1-schnell\s+comfyui\s+image\.generate\s+16\.0G\s+\S+\s+absent\s+comfyui: ComfyUI on GPU 0/.test(l)),
    human.out,
  );
});
