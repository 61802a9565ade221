/**
 * The comfyui plugin's farm integration below the API: catalog and workflow requirements kept
 * in step, config validation, model discovery over two instances (two GPUs) with reasons,
 * VRAM telemetry, and the agent's VRAM LRU evicting a ComfyUI model -> /free on that GPU's
 * instance. Instances are the ComfyUI stand-in (test/fixtures/comfyui/standin.ts).
 */
import { test } from "vitest";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { ComfyStandin, faceIdObjectInfo, fixtureObjectInfo } from "../fixtures/comfyui/standin.ts";
import { COMFY_MODELS } from "../../plugins/comfyui/workflows/index.ts";
import { catalogModels } from "../../models/catalog.ts";
import { createComfyPlugin } from "../../plugins/comfyui/index.ts";
import { parseComfyConfig } from "../../plugins/comfyui/runtime/config.ts";
import { preparePlugins } from "../../node-agent/plugin-loader.ts";
import { Agent } from "../../node-agent/agent.ts";
import { NoGpuProbe } from "../../node-agent/gpu-probe.ts";
import { buildConfig } from "../../core/config/load.ts";
import { FsArtifactStore } from "../../core/artifacts/fs-store.ts";
import { RecordingReporter, task } from "../unit/agent-harness.ts";

test("the catalog (models/*.yaml) and the workflows' requirements agree: same ComfyUI models, files and VRAM", () => {
  const catalog = catalogModels({ runtime: "comfyui" });
  const ids = [...new Set(COMFY_MODELS.map((m) => m.model_id))].sort();
  assert.deepEqual(catalog.map((m) => m.id).sort(), ids);
  for (const c of catalog) {
    // The plain (non face-reference) variant is the model itself.
    const req = COMFY_MODELS.find((m) => m.model_id === c.id && !m.modes.includes("face_ref"))!;
    assert.deepEqual(c.files.map((f) => `${f.folder}/${f.file}`).sort(), req.files.map((f) => `${f.folder}/${f.file}`).sort(), `${c.id} files`);
    assert.equal(c.vram_mb, req.vram_mb, `${c.id} VRAM`);
    assert.deepEqual(c.job_types, [req.job_type], `${c.id} job type`);
  }
  const manifest = createComfyPlugin().manifest;
  assert.deepEqual(
    manifest.job_types.map((j) => [j.type, j.default_model]),
    [
      ["image.generate", "sdxl-base-1.0"],
      ["video.generate", "ltx-video-0.9.7-distilled"],
      ["video.animate", undefined],
    ],
  );
  // /video/animate with model <id>: every model with an image-to-video workflow, and no default (a request without a model is Ken Burns).
  assert.deepEqual(manifest.job_types.find((j) => j.type === "video.animate")?.models, ["ltx-video-0.9.7-distilled"]);
});

test("plugins.comfyui is validated: each bad value names its key", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ instances: [{ url: "ftp://x", gpu_index: 0 }] }, /plugins\.comfyui\.instances\.0\.url must use http or https/],
    [
      {
        instances: [
          { url: "http://a:1", gpu_index: 0 },
          { url: "http://b:1", gpu_index: 0 },
        ],
      },
      /plugins\.comfyui\.instances\.1\.gpu_index GPU 0 already has an instance/,
    ],
    [{ instances: [{ url: "http://a:1", gpu_index: -1 }] }, /plugins\.comfyui\.instances\.0\.gpu_index must be the GPU index/],
    [{ supervise: {} }, /plugins\.comfyui\.supervise\.command is required/],
    [
      { supervise: { command: "python", backoff_initial_ms: 5000, backoff_max_ms: 100 } },
      /plugins\.comfyui\.supervise\.backoff_max_ms must be >= backoff_initial_ms/,
    ],
    [{ supervise: { command: "python" }, instances: [{ url: "http://a:1", gpu_index: 0 }] }, /plugins\.comfyui\.supervise and instances are exclusive/],
    [{ health_interval_ms: 1 }, /plugins\.comfyui\.health_interval_ms must be between 50 and 600000/],
    [{ instance: [] }, /plugins\.comfyui\.instance is not a setting/],
  ];
  for (const [raw, re] of cases)
    assert.throws(
      () => parseComfyConfig(raw),
      (err: Error & { code?: string }) => err.code === "VALIDATION_ERROR" && re.test(err.message),
      JSON.stringify(raw),
    );
  assert.deepEqual(parseComfyConfig({}).instances, []);
  const sup = parseComfyConfig({ supervise: { command: "python", args: ["main.py"] } }).supervise!;
  assert.deepEqual([sup.port_base, sup.backoff_initial_ms, sup.backoff_max_ms], [8188, 1000, 60000]);
});

test("no instance configured: the plugin starts, advertises nothing and says why per model", async () => {
  const set = await preparePlugins([{ name: "comfyui", plugin: createComfyPlugin() }], { modelsDir: os.tmpdir(), pluginConfig: { comfyui: {} } });
  try {
    assert.deepEqual(set.disabled(), []);
    assert.deepEqual(set.capabilities().models, { "image.generate": [], "video.generate": [], "video.animate": [] });
    const why = set.unavailableModels().find((u) => u.model_id === "sdxl-base-1.0")!;
    assert.match(why.missing[0]!, /no ComfyUI instance configured: set plugins\.comfyui\.instances .* or plugins\.comfyui\.supervise/);
  } finally {
    await set.close();
  }
});

/** An agent with only the comfyui plugin, its GPUs from the instances' /system_stats. */
async function comfyAgent(instances: { url: string; gpu_index: number }[]) {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "nb-comfy-agent-"));
  const config = buildConfig({
    paths: { data_dir: base },
    agent: { gpu_probe: "none", telemetry_interval_ms: 100, max_concurrent_jobs: 4, work_dir: path.join(base, "work") },
    plugins: { comfyui: { instances, health_interval_ms: 100 } },
  });
  const plugin = createComfyPlugin();
  const plugins = await preparePlugins([{ name: "comfyui", plugin }], { modelsDir: config.paths.models, pluginConfig: config.plugins });
  const reporter = new RecordingReporter();
  const agent = new Agent({
    nodeId: "comfy-node",
    config,
    plugins,
    probe: new NoGpuProbe(),
    artifacts: new FsArtifactStore(path.join(base, "artifacts")),
    reporter,
  });
  await agent.start();
  return {
    agent,
    reporter,
    plugin,
    artifacts: new FsArtifactStore(path.join(base, "artifacts")),
    cleanup: async () => {
      await agent.stop();
      fs.rmSync(base, { recursive: true, force: true });
    },
  };
}

test("two instances as two GPUs: a model is offered only when every live instance has it; reasons name the instance and file; VRAM per GPU from /system_stats", async () => {
  const a = await new ComfyStandin({ models: { checkpoints: ["sd_xl_base_1.0.safetensors", "sd_xl_turbo_1.0_fp16.safetensors"] }, vramMb: 24564 }).start();
  const b = await new ComfyStandin({ models: { checkpoints: ["sd_xl_base_1.0.safetensors"] }, vramMb: 81559 }).start();
  const h = await comfyAgent([
    { url: a.url, gpu_index: 0 },
    { url: b.url, gpu_index: 1 },
  ]);
  try {
    const r = h.agent.report();
    assert.deepEqual(r.models["image.generate"], ["sdxl-base-1.0"]);
    assert.deepEqual(
      r.gpus.map((g) => [g.index, g.memory_total_mb, g.simulated]),
      [
        [0, 24564, false],
        [1, 81559, false],
      ],
    );
    const turbo = r.unavailable_models?.find((u) => u.model_id === "sdxl-turbo");
    assert.deepEqual(turbo?.missing, [
      `ComfyUI on GPU 1 (${b.url}): sd_xl_turbo_1.0_fp16.safetensors is not in models/checkpoints (CheckpointLoaderSimple.ckpt_name does not offer it)`,
    ]);

    // The weights appear on GPU 1 and discovery (after its refresh interval) offers turbo.
    b.models = { checkpoints: ["sd_xl_base_1.0.safetensors", "sd_xl_turbo_1.0_fp16.safetensors"] };
    h.plugin.pool()!.instances[1]!.infoAt = 0; // as if discovery_interval_ms had passed
    await h.agent.heartbeatNow();
    const deadline = Date.now() + 30_000; // room for a loaded machine; only a failing run waits it out
    while (!h.agent.report().models["image.generate"]!.includes("sdxl-turbo") && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    assert.deepEqual(h.agent.report().models["image.generate"], ["sdxl-base-1.0", "sdxl-turbo"]);

    // GPU 1's server goes away: it is marked down and its GPU leaves the report; GPU 0 (live,
    // with every file) keeps the models offered.
    await b.stop();
    const deadline2 = Date.now() + 30_000;
    while (h.plugin.pool()!.instances[1]!.state !== "down" && Date.now() < deadline2) await new Promise((res) => setTimeout(res, 20));
    assert.equal(h.plugin.pool()!.instances[1]!.state, "down");
    await h.agent.refreshGpus();
    assert.ok(!h.agent.report().gpus.some((g) => g.index === 1), "a dead instance reports no GPU");
    await h.agent.heartbeatNow();
    assert.deepEqual(h.agent.report().models["image.generate"], ["sdxl-base-1.0", "sdxl-turbo"]);
  } finally {
    await h.cleanup();
    await a.stop();
    await b.stop().catch(() => {});
  }
});

test("face-reference methods: an instance with only InstantID (or only PuLID) offers sdxl-base-1.0:face_ref and runs that method's workflow; with none of the packs it is not offered and the reason names each method", async () => {
  const { IPAdapterFaceID: _a, IPAdapterUnifiedLoaderFaceID: _b, ...noIpAdapter } = fixtureObjectInfo();
  const packs = faceIdObjectInfo();
  const only = (prefix: string) => ({
    ...noIpAdapter,
    ControlNetLoader: packs.ControlNetLoader!,
    ...Object.fromEntries(Object.entries(packs).filter(([k]) => k.includes(prefix))),
  });
  const weights = {
    checkpoints: ["sd_xl_base_1.0.safetensors"],
    instantid: ["ip-adapter.bin"],
    controlnet: ["instantid/diffusion_pytorch_model.safetensors"],
    pulid: ["ip-adapter_pulid_sdxl_fp16.safetensors"],
  };
  const face = await sharp({ create: { width: 96, height: 96, channels: 3, background: { r: 220, g: 180, b: 150 } } })
    .png()
    .toBuffer();
  for (const [pack, applyNode] of [
    ["InstantID", "ApplyInstantID"],
    ["Pulid", "ApplyPulid"],
  ] as const) {
    const s = await new ComfyStandin({ models: weights, objectInfo: only(pack) }).start();
    const h = await comfyAgent([{ url: s.url, gpu_index: 0 }]);
    try {
      assert.deepEqual(h.agent.report().models["image.generate"], ["sdxl-base-1.0", "sdxl-base-1.0:face_ref"], pack);
      await h.artifacts.put("uploads/face.png", face, { contentType: "image/png" });
      const t = task(
        "image.generate",
        { prompt: "a portrait", width: 512, height: 512, seed: 4, reference_images: ["uploads/face.png"] },
        { model: "sdxl-base-1.0:face_ref", gpu_index: 0 },
      );
      await h.agent.startTask(t);
      const out = await h.reporter.outcome(t.job_id);
      assert.equal(out.kind, "completed", JSON.stringify(out));
      const wf = s.prompts.at(-1)!;
      const apply = Object.entries(wf).find(([, n]) => n.class_type === applyNode);
      assert.ok(apply, `${applyNode} ran`);
      assert.ok(!Object.values(wf).some((n) => n.class_type === "IPAdapterFaceID"));
      // The uploaded face goes into the method's apply node.
      const faceLink = apply[1].inputs.image as [string, number];
      assert.match(String(wf[faceLink[0]]!.inputs.image), /^nb-farm\/.+\/reference_images_0\.png$/);
    } finally {
      await h.cleanup();
      await s.stop();
    }
  }
  // No face pack at all: not offered, and farmctl models can say what each method lacks.
  const s = await new ComfyStandin({ models: weights, objectInfo: noIpAdapter }).start();
  const h = await comfyAgent([{ url: s.url, gpu_index: 0 }]);
  try {
    assert.deepEqual(h.agent.report().models["image.generate"], ["sdxl-base-1.0"]);
    const why =
      h.agent
        .report()
        .unavailable_models?.find((u) => u.model_id === "sdxl-base-1.0:face_ref")
        ?.missing.join("\n") ?? "";
    for (const re of [
      /ipadapter_faceid: node class IPAdapterUnifiedLoaderFaceID is not installed/,
      /instantid: node class ApplyInstantID is not installed/,
      /pulid: node class ApplyPulid is not installed/,
    ])
      assert.match(why, re);
  } finally {
    await h.cleanup();
    await s.stop();
  }
});

test("the agent's VRAM LRU evicting a ComfyUI model calls /free {unload_models, free_memory} on that GPU's instance", async () => {
  // A 16 GiB GPU whose server reports the VRAM its loaded files take: SDXL (10240 MiB)
  // then SDXL-Turbo (8192 MiB) cannot both fit, so the idle SDXL is evicted.
  const s = await new ComfyStandin({
    models: { checkpoints: ["sd_xl_base_1.0.safetensors", "sd_xl_turbo_1.0_fp16.safetensors"] },
    vramMb: 16384,
    modelVramMb: { "sd_xl_base_1.0.safetensors": 10240, "sd_xl_turbo_1.0_fp16.safetensors": 8192 },
  }).start();
  const h = await comfyAgent([{ url: s.url, gpu_index: 0 }]);
  try {
    const run = async (model: string, width: number) => {
      const t = task("image.generate", { prompt: "x", width, height: width, seed: 1 }, { model, gpu_index: 0 });
      await h.agent.startTask(t);
      const out = await h.reporter.outcome(t.job_id);
      assert.equal(out.kind, "completed", JSON.stringify(out));
    };
    await run("sdxl-base-1.0", 1024);
    assert.deepEqual(
      h.agent.report().resident.map((r) => [r.model_id, r.gpu_index]),
      [["sdxl-base-1.0", 0]],
    );
    assert.equal(s.freeCalls.length, 0);
    await h.agent.refreshGpus(); // the server now reports SDXL's memory in use
    await run("sdxl-turbo", 512);
    assert.deepEqual(s.freeCalls, [{ unload_models: true, free_memory: true }]);
    assert.deepEqual(
      h.agent.report().resident.map((r) => r.model_id),
      ["sdxl-turbo"],
    );
  } finally {
    await h.cleanup();
    await s.stop();
  }
});

test("the output check reads a PNG's size from its IHDR and refuses anything else", async () => {
  const { pngSize } = await import("../../plugins/comfyui/jobs/image.ts");
  const { default: sharp } = await import("sharp");
  const png = await sharp({ create: { width: 333, height: 77, channels: 3, background: "#fff" } })
    .png()
    .toBuffer();
  assert.deepEqual(pngSize(png), { width: 333, height: 77 });
  const jpeg = await sharp({ create: { width: 8, height: 8, channels: 3, background: "#fff" } })
    .jpeg()
    .toBuffer();
  assert.equal(pngSize(jpeg), undefined);
  assert.equal(pngSize(png.subarray(0, 20)), undefined);
});

test("supervise: a ComfyUI that never answers /system_stats is killed after start_timeout_ms and restarted with back-off", async () => {
  const { InstancePool } = await import("../../plugins/comfyui/runtime/pool.ts");
  const { silentLogger } = await import("../../core/logger.ts");
  const net = await import("node:net");
  const port = await new Promise<number>((resolve) => {
    const srv = net.createServer().listen(0, "127.0.0.1", () => {
      const p = (srv.address() as import("node:net").AddressInfo).port;
      srv.close(() => resolve(p));
    });
  });
  // A "ComfyUI" that starts and hangs: it never listens (ComfyUI's arguments go to the script).
  const hang = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "nb-hang-")), "hang.mjs");
  fs.writeFileSync(hang, "setInterval(() => {}, 1000);\n");
  const config = parseComfyConfig({
    supervise: { command: process.execPath, args: [hang], port_base: port, gpus: [0], start_timeout_ms: 300, backoff_initial_ms: 100, backoff_max_ms: 200 },
    health_interval_ms: 50,
  });
  let changes = 0;
  const pool = new InstancePool({
    config,
    gpus: [],
    logger: silentLogger,
    modelIds: ["sdxl-base-1.0"],
    availability: () => ({ available: [], missing: {} }),
    onChange: () => void changes++,
  });
  await pool.start();
  try {
    const first = pool.supervisor!.pids()[0];
    assert.ok(first);
    const deadline = Date.now() + 10_000;
    while (!/did not answer \/system_stats within 300 ms/.test(pool.instances[0]!.reason) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.match(pool.instances[0]!.reason, /supervised ComfyUI did not answer \/system_stats within 300 ms and was killed/);
    assert.equal(pool.instances[0]!.state, "down");
    while (!(pool.supervisor!.pids()[0] && pool.supervisor!.pids()[0] !== first) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.notEqual(pool.supervisor!.pids()[0], first, "restarted as a new process");
    const d = await pool.discover();
    assert.match(d.missing["sdxl-base-1.0"]![0]!, /^ComfyUI on GPU 0 \(http:\/\/127\.0\.0\.1:\d+\) is down: /);
  } finally {
    const last = pool.supervisor!.pids()[0];
    await pool.stop();
    if (last) assert.throws(() => process.kill(last, 0), "stop() ends the child");
    fs.rmSync(path.dirname(hang), { recursive: true, force: true });
  }
});
