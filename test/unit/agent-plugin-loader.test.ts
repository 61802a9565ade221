import { test } from "vitest";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadPlugins, preparePlugins, PluginManifestError, DEFAULT_PLUGINS_DIR } from "../../node-agent/plugin-loader.ts";
import { buildConfig } from "../../core/config/load.ts";
import type { Plugin } from "../../core/plugin-contract.ts";

const okRun = async () => ({ ok: true });
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "nb-loader-"));

test("the built-in diag plugin is discovered and advertised with its models", async () => {
  const dir = tmp();
  const cfg = buildConfig({ paths: { data_dir: dir }, agent: { plugins: ["diag"] } });
  const set = await loadPlugins(cfg);
  const caps = set.capabilities();
  assert.deepEqual(caps.job_types, ["diag.echo", "diag.fail", "diag.gpu", "diag.sleep"]);
  assert.deepEqual(caps.models["diag.gpu"], ["diag-small", "diag-medium", "diag-large"]);
  assert.deepEqual(caps.models["diag.echo"], []);
  assert.deepEqual(caps.model_vram, { "diag-small": 2048, "diag-medium": 8192, "diag-large": 20000 });
  assert.ok(fs.existsSync(path.join(DEFAULT_PLUGINS_DIR, "diag", "index.ts")));
  fs.rmSync(dir, { recursive: true, force: true });
});

test("agent.plugins naming a plugin that does not exist is a start-up error", async () => {
  const dir = tmp();
  const cfg = buildConfig({ paths: { data_dir: dir }, agent: { plugins: ["diag", "no-such-plugin"] } });
  await assert.rejects(loadPlugins(cfg), (err: unknown) => {
    assert.ok(err instanceof PluginManifestError);
    assert.equal(err.problems.length, 1);
    assert.match(err.problems[0]!, /agent\.plugins names 'no-such-plugin' but .*plugins\/no-such-plugin\/index\.ts does not exist/);
    return true;
  });
  fs.rmSync(dir, { recursive: true, force: true });
});

test("a broken manifest is rejected with every problem listed", async () => {
  const broken = {
    manifest: {
      name: "Bad Name",
      runtime: "cuda",
      job_types: [{ type: "bad.gen", models: ["m1", "ghost"], default_model: "other" }, { type: "bad.gen" }],
      models: [
        { id: "m1", vram_mb: -5, files: ["../../etc/passwd"] },
        { id: "m2", files: [] },
      ],
    },
    run: "not a function",
  };
  await assert.rejects(
    preparePlugins(
      [
        { name: "bad", plugin: broken },
        { name: "empty", plugin: undefined },
      ],
      { modelsDir: tmp() },
    ),
    (err: unknown) => {
      assert.ok(err instanceof PluginManifestError);
      assert.equal(err.code, "VALIDATION_ERROR");
      const all = err.problems.join("\n");
      for (const expected of [
        /plugins\/bad: run must be a function/,
        /plugins\/bad: version is required/,
        /plugins\/bad: name must match pattern/,
        /plugins\/bad: runtime must be one of \["cpu"/,
        /plugins\/bad: models\.0\.vram_mb must be >= 0/,
        /plugins\/bad: models\.1\.vram_mb is required/,
        /plugins\/empty: index\.ts must default-export a Plugin/,
      ])
        assert.match(all, expected);
      assert.match(err.message, /invalid plugin manifest\(s\):\n {2}- /);
      return true;
    },
  );
  // Shape-valid but inconsistent: cross-field rules, all listed.
  const inconsistent: Plugin = {
    manifest: {
      name: "bad2",
      version: "1",
      runtime: "cpu",
      job_types: [{ type: "bad.gen", models: ["m1", "ghost"], default_model: "m2" }, { type: "bad.gen" }],
      models: [
        { id: "m1", vram_mb: 10, files: ["../escape.bin"] },
        { id: "m2", vram_mb: 10, files: [] },
      ],
    },
    run: okRun,
  };
  await assert.rejects(preparePlugins([{ name: "bad2", plugin: inconsistent }], { modelsDir: tmp() }), (err: unknown) => {
    assert.ok(err instanceof PluginManifestError);
    assert.deepEqual(err.problems, [
      "plugins/bad2: models.0.files.0 '../escape.bin' must be a path relative to the models directory (no leading '/', no '..')",
      "plugins/bad2: job_types.0.models.1 'ghost' (job type bad.gen) is not a model declared in models",
      "plugins/bad2: job_types.0.default_model 'm2' (job type bad.gen) is not listed in its models",
      "plugins/bad2: job_types.1.type 'bad.gen' is declared twice",
    ]);
    return true;
  });
});

test("a plugin whose init throws is disabled with its reason, the others still run", async () => {
  const failing: Plugin = {
    manifest: { name: "flaky", version: "1", runtime: "cpu", job_types: [{ type: "flaky.x" }], models: [] },
    init: async () => {
      throw new Error("libfoo.so not found");
    },
    run: okRun,
  };
  const good: Plugin = { manifest: { name: "good", version: "1", runtime: "cpu", job_types: [{ type: "good.x" }], models: [] }, run: okRun };
  const set = await preparePlugins(
    [
      { name: "flaky", plugin: failing },
      { name: "good", plugin: good },
    ],
    { modelsDir: tmp() },
  );
  assert.deepEqual(set.disabled(), [{ name: "flaky", reason: "init failed: libfoo.so not found" }]);
  assert.deepEqual(set.capabilities().job_types, ["good.x"]);
  assert.equal(set.forJobType("flaky.x"), undefined);
});

test("a model whose files are missing is not advertised and is listed with the missing paths", async () => {
  const modelsDir = tmp();
  fs.mkdirSync(path.join(modelsDir, "sd"), { recursive: true });
  fs.writeFileSync(path.join(modelsDir, "sd", "present.onnx"), "x");
  const p: Plugin = {
    manifest: {
      name: "sd",
      version: "1",
      runtime: "onnx",
      job_types: [{ type: "sd.gen", models: ["have", "lack"], default_model: "have" }],
      models: [
        { id: "have", vram_mb: 4000, files: ["sd/present.onnx"] },
        { id: "lack", vram_mb: 9000, files: ["sd/present.onnx", "sd/unet.onnx", "sd/vae.onnx"] },
      ],
    },
    run: okRun,
  };
  const set = await preparePlugins([{ name: "sd", plugin: p }], { modelsDir, pluginConfig: { sd: { steps: 4 } } });
  const caps = set.capabilities();
  assert.deepEqual(caps.models, { "sd.gen": ["have"] });
  assert.deepEqual(caps.model_vram, { have: 4000 });
  assert.deepEqual(set.unavailableModels(), [
    { plugin: "sd", model_id: "lack", missing: [path.join(modelsDir, "sd/unet.onnx"), path.join(modelsDir, "sd/vae.onnx")] },
  ]);
  assert.deepEqual(set.forJobType("sd.gen")?.plugin.config, { steps: 4 });
});
