/**
 * Several plugins per job type (chosen by the task's model), run-time model discovery
 * (discoverModels / modelsChanged) and plugin GPU telemetry, on a real Agent.
 */
import { test } from "vitest";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { makeAgent, task } from "./agent-harness.ts";
import { preparePlugins, PluginManifestError } from "../../node-agent/plugin-loader.ts";
import type { ModelDiscovery, Plugin, PluginGpuReport, PluginInitContext } from "../../core/plugin-contract.ts";

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "nb-multi-"));

/** A plugin serving img.gen with its own models; run() says who ran what. */
function imgPlugin(name: string, models: string[], extra: Partial<Plugin> = {}): Plugin {
  return {
    manifest: {
      name,
      version: "1",
      runtime: "cpu",
      job_types: [{ type: "img.gen", models, default_model: models[0] }],
      models: models.map((id) => ({ id, vram_mb: 0, files: [] })),
    },
    run: async (t) => ({ ran_by: name, model: t.model }),
    ...extra,
  };
}

test("two plugins serve one job type: capabilities merge their models and the task's model picks the plugin", async () => {
  const h = await makeAgent({
    extraPlugins: [
      { name: "local", plugin: imgPlugin("local", ["sdxl", "flux"]) },
      { name: "remote", plugin: imgPlugin("remote", ["gemini"]) },
    ],
  });
  try {
    const r = h.agent.report();
    assert.deepEqual(r.models["img.gen"], ["sdxl", "flux", "gemini"]);
    assert.ok(r.job_types.includes("img.gen"));
    for (const [model, by] of [
      ["gemini", "remote"],
      ["flux", "local"],
      ["sdxl", "local"],
    ] as const) {
      const t = task("img.gen", {}, { model });
      await h.agent.startTask(t);
      const out = await h.reporter.outcome(t.job_id);
      assert.equal(out.kind, "completed", JSON.stringify(out));
      assert.deepEqual(out.kind === "completed" && out.result, { ran_by: by, model });
    }
    // No model: the first plugin's default model.
    const d = task("img.gen", {});
    await h.agent.startTask(d);
    const od = await h.reporter.outcome(d.job_id);
    assert.deepEqual(od.kind === "completed" && od.result, { ran_by: "local", model: "sdxl" });
    // An unknown model names every plugin's models.
    const u = task("img.gen", {}, { model: "dalle" });
    await h.agent.startTask(u);
    const ou = await h.reporter.outcome(u.job_id);
    assert.equal(ou.kind, "failed");
    if (ou.kind === "failed") {
      assert.equal(ou.error.code, "VALIDATION_ERROR");
      assert.match(ou.error.message, /unknown model 'dalle' for job type img\.gen \(one of: sdxl, flux, gemini\)/);
    }
  } finally {
    await h.cleanup();
  }
});

test("the same model of a job type in two plugins, or a model-less job type in two plugins, is a start-up error", async () => {
  await assert.rejects(
    preparePlugins(
      [
        { name: "a", plugin: imgPlugin("a", ["sdxl"]) },
        { name: "b", plugin: imgPlugin("b", ["flux", "sdxl"]) },
      ],
      { modelsDir: tmp() },
    ),
    (err: unknown) => {
      assert.ok(err instanceof PluginManifestError);
      assert.deepEqual(err.problems, ["plugins/b: model 'sdxl' of job type 'img.gen' is also declared by plugin 'a'"]);
      return true;
    },
  );
  const plain = (name: string): Plugin => ({
    manifest: { name, version: "1", runtime: "cpu", job_types: [{ type: "x.run" }], models: [] },
    run: async () => ({}),
  });
  await assert.rejects(
    preparePlugins(
      [
        { name: "p", plugin: plain("p") },
        { name: "q", plugin: plain("q") },
      ],
      { modelsDir: tmp() },
    ),
    (err: unknown) => {
      assert.ok(err instanceof PluginManifestError);
      assert.match(
        err.problems[0]!,
        /plugins\/q: job type 'x\.run' is also served by plugin 'p' \(several plugins may serve a job type only when each declares its own models\)/,
      );
      return true;
    },
  );
});

test("two plugins serving a type share its one params schema, which the agent advertises; a different schema is a start-up error", async () => {
  const params = { type: "object", properties: { prompt: { type: "string", minLength: 1 } }, required: ["prompt"] };
  const withParams = (name: string, models: string[], schema: Record<string, unknown>): Plugin => {
    const p = imgPlugin(name, models);
    return { ...p, manifest: { ...p.manifest, job_types: [{ ...p.manifest.job_types[0]!, params: schema }] } };
  };
  const h = await makeAgent({
    extraPlugins: [
      { name: "local", plugin: withParams("local", ["sdxl"], params) },
      { name: "remote", plugin: withParams("remote", ["gemini"], params) },
    ],
  });
  try {
    assert.deepEqual(h.agent.report().param_schemas?.["img.gen"], params);
  } finally {
    await h.cleanup();
  }
  await assert.rejects(
    preparePlugins(
      [
        { name: "a", plugin: withParams("a", ["sdxl"], params) },
        { name: "b", plugin: withParams("b", ["gemini"], { ...params, required: [] }) },
        { name: "c", plugin: imgPlugin("c", ["flux"]) },
      ],
      { modelsDir: tmp() },
    ),
    (err: unknown) => {
      assert.ok(err instanceof PluginManifestError);
      assert.deepEqual(err.problems, [
        "plugins/b: job type 'img.gen' declares a params schema different from plugin 'a''s (a job type has one definition: import the same one)",
        "plugins/c: job type 'img.gen' declares a params schema different from plugin 'a''s (a job type has one definition: import the same one)",
      ]);
      return true;
    },
  );
});

test("run-time models: only what discovery finds is advertised, the rest reported with why, and modelsChanged updates the node report at once", async () => {
  let state: ModelDiscovery = { missing: { flux: ["no ComfyUI instance has unet/flux1-schnell.safetensors"] }, vram_mb: { sdxl: 9000 } };
  let notify: (() => Promise<void>) | undefined;
  let discoveries = 0;
  const dyn = imgPlugin("dyn", ["sdxl", "flux"], {
    async init(ctx: PluginInitContext) {
      notify = ctx.modelsChanged;
    },
    async discoverModels() {
      discoveries++;
      return state;
    },
  });
  // Manifest files under the models directory are not checked for a discovering plugin.
  dyn.manifest.models = dyn.manifest.models.map((m) => ({ ...m, files: ["comfyui/never-here.safetensors"] }));
  const h = await makeAgent({ agent: { telemetry_interval_ms: 60000 }, extraPlugins: [{ name: "dyn", plugin: dyn }] });
  try {
    assert.ok(discoveries >= 1, "discovered at start");
    let r = h.agent.report();
    assert.deepEqual(r.models["img.gen"], ["sdxl"]);
    assert.equal(r.model_vram.sdxl, 9000, "discovery's VRAM figure overrides the manifest's");
    assert.deepEqual(
      r.unavailable_models?.filter((u) => u.plugin === "dyn"),
      [{ plugin: "dyn", model_id: "flux", missing: ["no ComfyUI instance has unet/flux1-schnell.safetensors"] }],
    );
    // A task for the missing model is refused at dispatch with the plugin's reason, so the
    // coordinator hands it back without spending an attempt.
    const f = task("img.gen", {}, { model: "flux" });
    await assert.rejects(h.agent.startTask(f), (err: Error & { code?: string }) => {
      assert.equal(err.code, "CAPABILITY_UNAVAILABLE");
      assert.match(err.message, /cannot run model 'flux' now: no ComfyUI instance has unet\/flux1-schnell\.safetensors/);
      return true;
    });

    // The weights appear and the plugin says so: a heartbeat carries the new capability
    // long before the (60 s) telemetry tick.
    state = { missing: {} };
    const before = h.reporter.heartbeats.length;
    void notify?.();
    const deadline = Date.now() + 5000;
    while (h.reporter.heartbeats.length === before && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
    const hb = h.reporter.heartbeats.at(-1)!;
    assert.deepEqual(hb.models["img.gen"], ["sdxl", "flux"]);
    assert.deepEqual(
      hb.unavailable_models?.filter((u) => u.plugin === "dyn"),
      [],
    );
    assert.equal(hb.model_vram.sdxl, 0, "back to the manifest's figure once discovery no longer overrides it");

    // Discovery failing marks every model of the plugin unavailable with the error.
    dyn.discoverModels = async () => {
      throw new Error("ECONNREFUSED 127.0.0.1:8188");
    };
    await notify?.();
    const deadline2 = Date.now() + 5000;
    while (h.agent.report().models["img.gen"]!.length > 0 && Date.now() < deadline2) await new Promise((res) => setTimeout(res, 10));
    r = h.agent.report();
    assert.deepEqual(r.models["img.gen"], []);
    assert.deepEqual(r.unavailable_models?.find((u) => u.model_id === "sdxl")?.missing, ["model discovery failed: ECONNREFUSED 127.0.0.1:8188"]);
  } finally {
    await h.cleanup();
  }
});

test("plugin GPU telemetry adds GPUs the probe does not see; a GPU the probe lists keeps the probe's figures", async () => {
  const gpus: PluginGpuReport[] = [
    { index: 0, name: "ComfyUI view of GPU 0", memory_total_mb: 1, memory_used_mb: 1 },
    { index: 1, name: "NVIDIA H100 80GB HBM3", memory_total_mb: 81559, memory_used_mb: 20480 },
  ];
  const p = imgPlugin("gpuview", ["sdxl"], { gpuTelemetry: async () => gpus });
  const h = await makeAgent({ extraPlugins: [{ name: "gpuview", plugin: p }] });
  try {
    const g = h.agent.report().gpus;
    assert.deepEqual(
      g.map((x) => [x.index, x.name, x.memory_total_mb, x.simulated]),
      [
        [0, "Sim 24GB", 24576, true],
        [1, "NVIDIA H100 80GB HBM3", 81559, false],
      ],
    );
    assert.equal(g[1]!.memory_used_mb, 20480);
    // The next tick sees the server's new numbers.
    gpus[1] = { ...gpus[1]!, memory_used_mb: 40960 };
    await h.agent.refreshGpus();
    assert.equal(h.agent.report().gpus[1]!.memory_used_mb, 40960);
  } finally {
    await h.cleanup();
  }
});
