import { test } from "vitest";
import assert from "node:assert/strict";
import { ModelManager, type ModelLoader } from "../../node-agent/model-manager.ts";
import type { ModelSpec } from "../../core/plugin-contract.ts";
import type { GpuInfo } from "../../core/telemetry.ts";
import { ManualClock } from "../../core/clock.ts";
import { FarmError } from "../../core/errors.ts";

const spec = (id: string, vram_mb: number): ModelSpec => ({ id, vram_mb, files: [] });
const simGpu = (index: number, total: number): GpuInfo => ({
  index,
  uuid: `SIM-${index}`,
  name: "Sim 24GB",
  memory_total_mb: total,
  memory_used_mb: 0,
  utilization_pct: null,
  temperature_c: null,
  simulated: true,
});

function recordingLoader(delayMs = 0) {
  const events: string[] = [];
  const loader: ModelLoader = {
    owner: "test",
    async load(s, gpu) {
      events.push(`load ${s.id}@${gpu}`);
      if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
      return { id: s.id, n: events.length };
    },
    async unload(s, _h, gpu) {
      events.push(`unload ${s.id}@${gpu}`);
    },
  };
  return { loader, events };
}

function setup(total = 24576) {
  const clock = new ManualClock();
  const mm = new ModelManager({ clock });
  mm.updateGpus([simGpu(0, total)]);
  return { clock, mm };
}

test("evicts idle models least-recently-used first until the new one fits", async () => {
  const { clock, mm } = setup(24576);
  const { loader, events } = recordingLoader();
  for (const [id, mb] of [
    ["a", 8000],
    ["b", 8000],
    ["c", 8000],
  ] as const) {
    const h = await mm.acquire(spec(id, mb), 0, loader);
    clock.advance(1000);
    mm.release(h);
  }
  // Touch "a" so "b" becomes the least recently used.
  clock.advance(1000);
  mm.release(await mm.acquire(spec("a", 8000), 0, loader));
  clock.advance(1000);
  await mm.acquire(spec("d", 8000), 0, loader);
  assert.deepEqual(events, ["load a@0", "load b@0", "load c@0", "unload b@0", "load d@0"]);
  assert.deepEqual(
    mm
      .resident()
      .map((r) => r.model_id)
      .sort(),
    ["a", "c", "d"],
  );
  assert.equal(mm.freeMb(0), 24576 - 24000);
});

test("never evicts a model in use; when it cannot fit it throws GPU_ERROR with the numbers and evicts nothing", async () => {
  const { mm } = setup(24576);
  const { loader, events } = recordingLoader();
  const large = await mm.acquire(spec("large", 20000), 0, loader); // held
  mm.release(await mm.acquire(spec("small", 2048), 0, loader)); // idle
  await assert.rejects(mm.acquire(spec("medium", 8192), 0, loader), (err: unknown) => {
    assert.ok(err instanceof FarmError);
    assert.equal(err.code, "GPU_ERROR");
    assert.equal(err.retryable, true);
    assert.match(
      err.message,
      /not enough VRAM on GPU 0 .* for model 'medium': needs 8192 MiB, 2528 MiB free of 24576 MiB, 2048 MiB reclaimable from idle models; in use: large \(20000 MiB\)/,
    );
    assert.deepEqual([err.details?.needed_mb, err.details?.free_mb], [8192, 2528]);
    return true;
  });
  assert.deepEqual(
    mm
      .resident()
      .map((r) => r.model_id)
      .sort(),
    ["large", "small"],
    "nothing evicted",
  );
  assert.deepEqual(events, ["load large@0", "load small@0"]);
  // Once released, the large one is evictable.
  mm.release(large);
  await mm.acquire(spec("medium", 8192), 0, loader);
  assert.ok(events.includes("unload large@0"));
});

test("concurrent acquires of the same model share one load", async () => {
  const { mm } = setup();
  const { loader, events } = recordingLoader(30);
  const [h1, h2, h3] = await Promise.all([1, 2, 3].map(() => mm.acquire(spec("m", 4000), 0, loader)));
  assert.deepEqual(events, ["load m@0"]);
  assert.equal(h1!.value, h2!.value);
  assert.equal(h2!.value, h3!.value);
  assert.equal(mm.resident()[0]!.in_use, 3);
  mm.release(h1!);
  mm.release(h1!); // idempotent
  assert.equal(mm.resident()[0]!.in_use, 2);
});

test("a failed load frees its reservation and rejects every waiter", async () => {
  const { mm } = setup(10000);
  const loader: ModelLoader = {
    owner: "t",
    load: async () => {
      throw new FarmError("MODEL_ERROR", "weights corrupt");
    },
  };
  const results = await Promise.allSettled([mm.acquire(spec("x", 6000), 0, loader), mm.acquire(spec("x", 6000), 0, loader)]);
  assert.deepEqual(
    results.map((r) => r.status),
    ["rejected", "rejected"],
  );
  assert.deepEqual(mm.resident(), []);
  assert.equal(mm.freeMb(0), 10000);
});

test("resident() reports VRAM, users and load_ms; a real GPU's free VRAM is not double counted", async () => {
  const clock = new ManualClock();
  const mm = new ModelManager({ clock });
  const real: GpuInfo = {
    index: 0,
    uuid: "GPU-1",
    name: "NVIDIA H100 80GB HBM3",
    memory_total_mb: 81559,
    memory_used_mb: 1559,
    utilization_pct: 0,
    temperature_c: 30,
    simulated: false,
  };
  mm.updateGpus([real]);
  const { loader } = recordingLoader(5);
  const h = await mm.acquire(spec("sdxl", 12000), 0, loader);
  // Loaded since the last probe: counted by us.
  assert.equal(mm.freeMb(0), 81559 - 1559 - 12000);
  // The next probe sees the model's memory in memory_used: no longer added by us.
  mm.updateGpus([{ ...real, memory_used_mb: 1559 + 12000 }]);
  assert.equal(mm.freeMb(0), 81559 - 1559 - 12000);
  const r = mm.resident()[0]!;
  assert.deepEqual([r.model_id, r.gpu_index, r.vram_mb, r.in_use], ["sdxl", 0, 12000, 1]);
  assert.ok(r.load_ms >= 0);
  mm.release(h);
  assert.equal(mm.resident()[0]!.in_use, 0);
});

test("a GPU index the node does not have is GPU_ERROR naming the GPUs it has", async () => {
  const { mm } = setup();
  const { loader } = recordingLoader();
  await assert.rejects(mm.acquire(spec("m", 1000), 3, loader), { code: "GPU_ERROR", message: "GPU 3 is not present on this node (GPUs: 0)" });
});
