/**
 * cpu_fallback in placement (regression: a model that needs VRAM but may run on CPU, such
 * as Whisper or MusicGen, was never placed on a CPU-only node, so a farm without GPUs
 * answered 503 for it).
 */
import assert from "node:assert/strict";
import { describe, it } from "vitest";
import { schedule } from "../../coordinator/scheduler.ts";
import { view } from "./coordinator-fixtures.ts";

const WHISPER = { type: "audio.transcribe", requirements: { model: "whisper-small", vram_mb: 2048 } };
const offers = { types: ["audio.transcribe"], models: { "audio.transcribe": ["whisper-small"] }, model_vram: { "whisper-small": 2048 } };
const withFallback = (v: ReturnType<typeof view>) => ({ ...v, report: { ...v.report, model_cpu_fallback: ["whisper-small"] } });

describe("cpu_fallback placement", () => {
  it("a CPU-only node that declares the fallback takes the job on its CPU; one that does not is refused", () => {
    const cpu = withFallback(view({ id: "cpu", ...offers }));
    const placed = schedule(WHISPER, [cpu]);
    assert.equal(placed.verdict, "placed");
    assert.equal(placed.node_id, "cpu");
    assert.equal(placed.gpu_index, null);
    const refused = schedule(WHISPER, [view({ id: "cpu", ...offers })]);
    assert.equal(refused.verdict, "impossible");
    assert.match(refused.reasons.cpu!, /has no GPU \(needs 2048 MiB VRAM\)/);
  });

  it("a GPU that fits beats a CPU fallback elsewhere", () => {
    const cpu = withFallback(view({ id: "a-cpu", ...offers }));
    const gpu = view({ id: "b-gpu", ...offers, gpus: [{ total: 8192 }] });
    const d = schedule(WHISPER, [cpu, gpu]);
    assert.equal(d.node_id, "b-gpu");
    assert.equal(d.gpu_index, 0);
  });

  it("GPUs too small for the model: its CPU runs it; a GPU that is only busy is waited for", () => {
    const small = withFallback(view({ id: "small", ...offers, gpus: [{ total: 1024 }] }));
    const d = schedule(WHISPER, [small]);
    assert.equal(d.verdict, "placed");
    assert.equal(d.gpu_index, null);
    const busy = withFallback(view({ id: "busy", ...offers, gpus: [{ total: 4096, used: 4000 }] }));
    assert.equal(schedule(WHISPER, [busy]).verdict, "wait");
  });

  it("a job that insists on a GPU never falls back", () => {
    const cpu = withFallback(view({ id: "cpu", ...offers }));
    assert.equal(schedule({ type: "audio.transcribe", requirements: { model: "whisper-small", vram_mb: 2048, gpu: true } }, [cpu]).verdict, "impossible");
  });
});
