import { performance } from "node:perf_hooks";
import type { GpuInfo, NodeReport, ResidentModel } from "./core/telemetry.ts";
import type { NodeView } from "./coordinator/node-view.ts";
import { schedule } from "./coordinator/scheduler.ts";
let seed = 42;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const MODELS = Array.from({ length: 10 }, (_, i) => `model-${i}`);
const VRAM: Record<string, number> = Object.fromEntries(MODELS.map((m, i) => [m, 4000 + i * 2000]));
const TYPES = ["image.generate", "video.generate", "audio.generate", "image.upscale"];
function makeNode(i: number): NodeView {
  const gpus: GpuInfo[] = []; const resident: ResidentModel[] = [];
  for (let g = 0; g < 8; g++) { let used = 0;
    for (let k = 0; k < 2; k++) if (rnd() < 0.5) { const m = MODELS[Math.floor(rnd() * 10)]!; const v = VRAM[m]!; if (used + v > 24576) continue; used += v;
      resident.push({ model_id: m, gpu_index: g, vram_mb: v, in_use: rnd() < 0.3 ? 1 : 0, loaded_at: 0, last_used_at: 0, load_ms: 5000 }); }
    gpus.push({ index: g, uuid: "", name: "", memory_total_mb: 24576, memory_used_mb: used, utilization_pct: Math.floor(rnd() * 100), temperature_c: 0, simulated: true }); }
  const report: NodeReport = { node_id: `node-${i}`, hostname: "", started_at: 0, draining: false, job_types: TYPES, models: Object.fromEntries(TYPES.map((t) => [t, MODELS])), model_vram: VRAM, gpus, resident, running_jobs: [], max_concurrent_jobs: 8, cpu_load: 0, reported_at: 0 };
  return { report, draining: rnd() < 0.02, blocklisted: new Map(), running: Math.floor(rnd() * 9) };
}
const nodes = Array.from({ length: 1000 }, (_, i) => makeNode(i));
const N = Number(process.argv[2] ?? 3000);
for (let i = 0; i < 300; i++) { const m = MODELS[i % 10]!; schedule({ type: TYPES[i % 4]!, requirements: { model: m, vram_mb: VRAM[m]! } }, nodes, { maxReasons: 50 }); }
const c0 = process.cpuUsage();
const t = performance.now();
for (let i = 0; i < N; i++) { const m = MODELS[i % 10]!; schedule({ type: TYPES[i % 4]!, requirements: { model: m, vram_mb: VRAM[m]! } }, nodes, { maxReasons: 50 }); }
const cu = process.cpuUsage(c0);
console.log(((performance.now() - t) / N * 1000).toFixed(0), "µs/decision wall", ((cu.user + cu.system) / N).toFixed(0), "µs cpu");
import { indexReport } from "./coordinator/vram-fit.ts";
{
  const t = performance.now();
  let c = 0;
  for (let i = 0; i < N; i++) for (const v of nodes) { const idx = indexReport(v.report); if (idx.jobTypes.has("x")) c++; if (idx.models.get("image.generate")?.has("model-1")) c++; }
  console.log(((performance.now() - t) / N * 1000).toFixed(0), "µs/decision for index+lookups only", c);
}
{
  const t = performance.now();
  for (let i = 0; i < N; i++) { const m = MODELS[i % 10]!; schedule({ type: TYPES[i % 4]!, requirements: { model: m, vram_mb: VRAM[m]! } }, nodes, { maxReasons: 0 }); }
  console.log(((performance.now() - t) / N * 1000).toFixed(0), "µs/decision maxReasons 0");
}
{
  const t = performance.now();
  for (let i = 0; i < N; i++) { schedule({ type: "none", requirements: {} }, nodes, { maxReasons: 0 }); }
  console.log(((performance.now() - t) / N * 1000).toFixed(0), "µs/decision type not offered");
}
