/**
 * Whisper sessions are models in the farm's sense: the agent's ModelManager loads them through
 * the speech plugin, counts their VRAM, and its LRU eviction calls the plugin's unload, which
 * releases the onnxruntime sessions (the handle is disposed and refuses further work).
 */
import { afterAll, test } from "vitest";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import plugin from "../../plugins/speech/index.ts";
import { manifest } from "../../plugins/speech/manifest.ts";
import type { WhisperHandle } from "../../plugins/speech/whisper-model.ts";
import { ModelManager, type ModelLoader } from "../../node-agent/model-manager.ts";
import { ManualClock } from "../../core/clock.ts";
import { FarmError } from "../../core/errors.ts";
import { silentLogger } from "../../core/logger.ts";
import type { GpuInfo } from "../../core/telemetry.ts";
import { makeTaskContext } from "../helpers/task-context.ts";
import { buildTinyWhisper } from "../fixtures/whisper/tiny-whisper.ts";

const modelsDir = fs.mkdtempSync(path.join(os.tmpdir(), "speech-evict-"));
afterAll(() => fs.rmSync(modelsDir, { recursive: true, force: true }));

test("LRU eviction unloads the idle Whisper model and disposes its sessions", async () => {
  buildTinyWhisper(modelsDir, "whisper-tiny");
  buildTinyWhisper(modelsDir, "whisper-base");
  const clock = new ManualClock();
  const mm = new ModelManager({ clock });
  const gpu: GpuInfo = {
    index: 0,
    uuid: "SIM-0",
    name: "Sim 1.5GB",
    memory_total_mb: 1536,
    memory_used_mb: 0,
    utilization_pct: null,
    temperature_c: null,
    simulated: true,
  };
  mm.updateGpus([gpu]);
  const unloaded: string[] = [];
  const ictx = (gpu_index: number | null) => ({ logger: silentLogger, modelsDir, config: {}, gpus: [gpu], gpu_index });
  const loader: ModelLoader = {
    owner: "speech",
    load: (spec, g) => plugin.load!(spec, ictx(g)),
    unload: async (spec, handle) => {
      unloaded.push(spec.id);
      await plugin.unload!(spec, handle);
    },
  };
  const spec = (id: string) => manifest.models.find((m) => m.id === id)!;
  const a = await mm.acquire(spec("whisper-tiny"), 0, loader);
  const tiny = a.value as WhisperHandle;
  assert.equal(tiny.id, "whisper-tiny");
  mm.release(a);
  clock.advance(1000);
  const b = await mm.acquire(spec("whisper-base"), 0, loader); // 1024 + 1024 > 1536: tiny must go
  assert.deepEqual(unloaded, ["whisper-tiny"]);
  assert.equal(tiny.disposed, true);
  assert.deepEqual(
    mm.resident().map((r) => r.model_id),
    ["whisper-base"],
  );
  // A task still holding the evicted handle is refused with a clear error, not run on released sessions.
  const ctx = makeTaskContext({ modelsDir, model: tiny });
  await assert.rejects(
    plugin.run({ job_id: "j", type: "audio.transcribe", params: { audio_path: "x.wav" }, model: "whisper-tiny", attempt: 1 }, ctx),
    (err: unknown) => {
      assert.ok(err instanceof FarmError);
      assert.equal(err.code, "MODEL_ERROR");
      return true;
    },
  );
  ctx.cleanup();
  mm.release(b);
  await plugin.unload!(spec("whisper-base"), b.value);
});
