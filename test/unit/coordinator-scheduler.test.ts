import assert from "node:assert/strict";
import { describe, it } from "vitest";
import { schedule } from "../../coordinator/scheduler.ts";
import { view, type NodeSpec } from "./coordinator-fixtures.ts";

const SDXL = { type: "image.generate", requirements: { model: "sdxl", vram_mb: 12288 } };
const gpuNode = (id: string, over: Partial<NodeSpec> = {}) =>
  view({
    id,
    types: ["image.generate"],
    models: { "image.generate": ["sdxl", "flux"] },
    model_vram: { sdxl: 12288, flux: 30000 },
    gpus: [{ total: 24576 }],
    ...over,
  });

describe("scheduler", () => {
  it("places only on nodes that offer the job type and the model, saying why others were rejected", () => {
    const nodes = [
      view({ id: "cpu1", types: ["diag.echo"] }),
      view({ id: "other", types: ["image.generate"], models: { "image.generate": ["flux"] }, gpus: [{ total: 48000 }] }),
      gpuNode("g1"),
    ];
    const d = schedule(SDXL, nodes);
    assert.equal(d.verdict, "placed");
    assert.equal(d.node_id, "g1");
    assert.equal(d.gpu_index, 0);
    assert.equal(d.reasons.cpu1, "does not offer job type 'image.generate'");
    assert.equal(d.reasons.other, "does not offer model 'sdxl' for 'image.generate'");
    assert.match(d.reasons.g1!, /^chosen gpu0/);
  });

  it("says impossible, naming the missing capability, when no node could ever run the job", () => {
    const nodes = [view({ id: "cpu1", types: ["diag.echo"] }), gpuNode("g1")];
    const noType = schedule({ type: "video.generate", requirements: {} }, nodes);
    assert.equal(noType.verdict, "impossible");
    assert.equal(noType.summary, "no live node offers job type 'video.generate'");
    const noModel = schedule({ type: "image.generate", requirements: { model: "sd3", vram_mb: 1000 } }, nodes);
    assert.equal(noModel.verdict, "impossible");
    assert.equal(noModel.summary, "no live node offers model 'sd3' for job type 'image.generate'");
    const tooBig = schedule({ type: "image.generate", requirements: { model: "flux", vram_mb: 30000 } }, nodes);
    assert.equal(tooBig.verdict, "impossible");
    assert.equal(tooBig.summary, "model 'flux' needs 30000 MiB VRAM; the largest GPU on nodes offering it has 24576 MiB");
    assert.equal(tooBig.reasons.g1, "model 'flux' needs 30000 MiB; largest GPU has 24576 MiB");
    assert.equal(schedule(SDXL, []).verdict, "impossible");
    const noGpu = schedule(SDXL, [view({ id: "c", types: ["image.generate"], models: { "image.generate": ["sdxl"] } })]);
    assert.equal(noGpu.verdict, "impossible");
    assert.equal(noGpu.reasons.c, "has no GPU (needs 12288 MiB VRAM)");
  });

  it("waits (not impossible) when capable nodes are busy or draining; fails fast when every capable node is blocklisted", () => {
    const busy = schedule(
      SDXL,
      [gpuNode("g1", {}), gpuNode("g2")].map((v, i) => (i === 0 ? { ...v, running: 2 } : { ...v, draining: true })),
    );
    assert.equal(busy.verdict, "wait");
    assert.equal(busy.reasons.g1, "busy: 2/2 jobs running");
    assert.equal(busy.reasons.g2, "draining");
    const blocked = schedule(SDXL, [{ ...gpuNode("g1"), blocklisted: new Map([["image.generate", "failed 3 'image.generate' jobs"]]) }]);
    assert.equal(blocked.verdict, "impossible");
    assert.match(blocked.summary, /every live node offering 'image.generate' is blocklisted/);
    assert.equal(blocked.reasons.g1, "blocklisted for 'image.generate': failed 3 'image.generate' jobs");
    // One blocklisted, one busy: the busy one will free up.
    const mixed = schedule(SDXL, [
      { ...gpuNode("g1"), blocklisted: new Map([["image.generate", "x"]]) },
      { ...gpuNode("g2"), running: 2 },
    ]);
    assert.equal(mixed.verdict, "wait");
  });

  it("fits VRAM per GPU, counting idle resident models as evictable but not busy ones", () => {
    // 24 GiB GPU, 16 GiB used by an idle model: fits after eviction.
    const idle = gpuNode("idle", { gpus: [{ total: 24576, used: 16000 }], resident: [{ model: "flux", gpu: 0, vram: 16000, in_use: 0 }] });
    assert.equal(schedule(SDXL, [idle]).verdict, "placed");
    // Same, but the resident model is in use: 8576 MiB free is not enough.
    const busyModel = gpuNode("busy", { gpus: [{ total: 24576, used: 16000 }], resident: [{ model: "flux", gpu: 0, vram: 16000, in_use: 1 }] });
    const d = schedule(SDXL, [busyModel]);
    assert.equal(d.verdict, "wait");
    assert.equal(d.reasons.busy, "no GPU with 12288 MiB free (gpu0: 8576/24576 MiB free after evicting idle models)");
  });

  it("reserves VRAM for models the coordinator already sent to a GPU", () => {
    const n = gpuNode("g", { model_vram: { sdxl: 12288, flux: 16000 } });
    const assigned = new Map([[0, new Map([["flux", 1]])]]);
    const d = schedule(SDXL, [{ ...n, running: 1, assigned }]);
    assert.equal(d.verdict, "wait");
    assert.match(d.reasons.g!, /gpu0: 8576\/24576 MiB free/);
  });

  it("prefers a GPU where the model is already resident (warm), even on a busier node", () => {
    const cold = gpuNode("cold", { gpus: [{ total: 24576 }], max: 4 });
    const warm = gpuNode("warm", {
      gpus: [{ total: 24576 }, { total: 24576, used: 12288 }],
      resident: [{ model: "sdxl", gpu: 1, vram: 12288, in_use: 1 }],
      max: 4,
    });
    const d = schedule(SDXL, [cold, { ...warm, running: 2 }]);
    assert.equal(d.node_id, "warm");
    assert.equal(d.gpu_index, 1);
    assert.equal(d.summary, "placed on warm gpu1 (model 'sdxl' already loaded)");
    assert.match(d.reasons.cold!, /^could run it on gpu0, ranked lower/);
  });

  it("picks the least loaded node, then the less utilised GPU", () => {
    const a = { ...gpuNode("a", { max: 4 }), running: 2 };
    const b = { ...gpuNode("b", { max: 4 }), running: 1 };
    assert.equal(schedule(SDXL, [a, b]).node_id, "b");
    const c = gpuNode("c", {
      gpus: [
        { total: 24576, util: 90 },
        { total: 24576, util: 10 },
      ],
    });
    const d = schedule(SDXL, [c]);
    assert.equal(d.gpu_index, 1);
  });

  it("runs CPU-only job types on any node that offers them, with no GPU", () => {
    const d = schedule({ type: "diag.echo", requirements: {} }, [view({ id: "cpu", cpu_load: 3 }), view({ id: "cpu2", cpu_load: 1 })]);
    assert.equal(d.verdict, "placed");
    assert.equal(d.node_id, "cpu2");
    assert.equal(d.gpu_index, null);
  });

  it("avoids nodes the job already failed on while another node can take it", () => {
    const nodes = [gpuNode("a"), gpuNode("b")];
    assert.equal(schedule({ ...SDXL, failed_on: ["a"] }, nodes).node_id, "b");
    // The only other node is busy: wait for it rather than retry where it failed.
    const wait = schedule({ ...SDXL, failed_on: ["a"] }, [nodes[0]!, { ...nodes[1]!, running: 2 }]);
    assert.equal(wait.verdict, "wait");
    assert.equal(wait.reasons.a, "job already failed here; waiting for another node");
    // Nobody else at all: retry on the same node.
    assert.equal(schedule({ ...SDXL, failed_on: ["a"] }, [nodes[0]!]).node_id, "a");
  });

  it("waits for a busy node it has not failed on only until avoid_until; then a free node it failed on takes it", () => {
    const nodes = [gpuNode("a"), { ...gpuNode("b"), running: 2 }];
    const job = { ...SDXL, failed_on: ["a"], avoid_until: 10_000 };
    const before = schedule(job, nodes, { now: 9_999 });
    assert.equal(before.verdict, "wait");
    assert.match(before.summary, /at most until 1970-01-01T00:00:10\.000Z/);
    const after = schedule(job, nodes, { now: 10_000 });
    assert.equal(after.verdict, "placed");
    assert.equal(after.node_id, "a");
    assert.match(after.summary, /failed here before; 1 other node still busy after its wait/);
    // No clock given, or no limit on the job: it keeps waiting (the behaviour before the limit).
    assert.equal(schedule(job, nodes).verdict, "wait");
    assert.equal(schedule({ ...SDXL, failed_on: ["a"] }, nodes, { now: 1e12 }).verdict, "wait");
    // A free node it has not failed on still wins after the wait.
    assert.equal(schedule(job, [gpuNode("a"), { ...gpuNode("b"), running: 2 }, gpuNode("c")], { now: 20_000 }).node_id, "c");
  });

  it("skips a node marked unavailable, with its reason", () => {
    const d = schedule(SDXL, [{ ...gpuNode("a"), unavailable: "refused a dispatch" }]);
    assert.equal(d.verdict, "wait");
    assert.equal(d.reasons.a, "refused a dispatch");
  });
});
