import { test } from "vitest";
import assert from "node:assert/strict";
import { parseNvidiaSmi, parseSmiNumber, NVIDIA_SMI_ARGS } from "../../node-agent/nvidia-smi-parse.ts";
import { NvidiaSmiProbe, resolveGpuProbe, SimulatedGpuProbe, binaryExists } from "../../node-agent/gpu-probe.ts";
import { createLogger, type Logger } from "../../core/logger.ts";

// Output shaped like `nvidia-smi --query-gpu=... --format=csv,noheader,nounits` on an 8x H100 box (first lines).
const H100_BOX = [
  "0, GPU-5a1b2c3d-0f1e-4a2b-9c8d-7e6f5a4b3c2d, NVIDIA H100 80GB HBM3, 81559, 1, 0, 31",
  "1, GPU-6b2c3d4e-1a2b-4c3d-8e9f-0a1b2c3d4e5f, NVIDIA H100 80GB HBM3, 81559, 70214, 100, 67",
  "2, GPU-7c3d4e5f-2b3c-4d5e-9f0a-1b2c3d4e5f6a, NVIDIA H100 PCIe, 81559, 512, 12, 44",
  "",
].join("\n");

test("parses several H100s with spaces in their names", () => {
  const { gpus, skipped } = parseNvidiaSmi(H100_BOX);
  assert.deepEqual(skipped, []);
  assert.equal(gpus.length, 3);
  assert.deepEqual(gpus[1], {
    index: 1,
    uuid: "GPU-6b2c3d4e-1a2b-4c3d-8e9f-0a1b2c3d4e5f",
    name: "NVIDIA H100 80GB HBM3",
    memory_total_mb: 81559,
    memory_used_mb: 70214,
    utilization_pct: 100,
    temperature_c: 67,
    simulated: false,
  });
  assert.equal(gpus[2]!.name, "NVIDIA H100 PCIe");
});

test("[N/A], [Not Supported], blanks and trailing spaces become null, not NaN", () => {
  const out = [
    "0, GPU-aaaa, NVIDIA A100-SXM4-40GB, 40960, 0, [N/A], [N/A]   ",
    "1, GPU-bbbb, NVIDIA GeForce RTX 4090, 24564, 2048, [Not Supported], 55",
    "2, GPU-cccc, Tesla T4, 15360, 3,  , ",
    "3, GPU-dddd, NVIDIA L4, 23034 MiB, 100 MiB, 7 %, 40   \r",
  ].join("\r\n");
  const { gpus } = parseNvidiaSmi(out);
  assert.equal(gpus.length, 4);
  assert.equal(gpus[0]!.utilization_pct, null);
  assert.equal(gpus[0]!.temperature_c, null);
  assert.equal(gpus[1]!.utilization_pct, null);
  assert.equal(gpus[1]!.temperature_c, 55);
  assert.equal(gpus[2]!.utilization_pct, null);
  assert.equal(gpus[2]!.temperature_c, null);
  assert.deepEqual([gpus[3]!.memory_total_mb, gpus[3]!.memory_used_mb, gpus[3]!.utilization_pct, gpus[3]!.temperature_c], [23034, 100, 7, 40]);
  assert.equal(parseSmiNumber("N/A"), null);
  assert.equal(parseSmiNumber(" 12.5 "), 12.5);
});

test("garbage lines are skipped and listed; the good GPUs are kept", () => {
  const { gpus, skipped } = parseNvidiaSmi("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver\n" + H100_BOX);
  assert.equal(gpus.length, 3);
  assert.equal(skipped.length, 1);
});

function capturingLogger(): { logger: Logger; lines: { level: string; msg: string }[] } {
  const lines: { level: string; msg: string }[] = [];
  const mk = (): Logger => ({
    debug: (msg) => void lines.push({ level: "debug", msg }),
    info: (msg) => void lines.push({ level: "info", msg }),
    warn: (msg) => void lines.push({ level: "warn", msg }),
    error: (msg) => void lines.push({ level: "error", msg }),
    child: () => mk(),
  });
  return { logger: mk(), lines };
}

test("nvidia-smi probe runs the documented query and parses it", async () => {
  let seen: string[] = [];
  const probe = new NvidiaSmiProbe({ runner: async (_bin, args) => ((seen = args), H100_BOX) });
  const gpus = await probe.probe();
  assert.equal(gpus.length, 3);
  assert.deepEqual(seen, NVIDIA_SMI_ARGS);
  assert.match(seen[0]!, /^--query-gpu=index,uuid,name,memory\.total,memory\.used,utilization\.gpu,temperature\.gpu$/);
});

test("a failing or hanging nvidia-smi is logged and reported as no GPUs", async () => {
  const { logger, lines } = capturingLogger();
  const failing = new NvidiaSmiProbe({
    logger,
    runner: async () => {
      throw new Error("spawn nvidia-smi ENOENT");
    },
  });
  assert.deepEqual(await failing.probe(), []);
  assert.deepEqual(await failing.probe(), []);
  assert.equal(lines.filter((l) => l.level === "error").length, 1, "logged once per failure streak");
  // A real timeout through the default runner: a binary that sleeps longer than the timeout.
  const hanging = new NvidiaSmiProbe({ bin: "sleep", timeoutMs: 100, logger: createLogger("silent") });
  assert.deepEqual(await hanging.probe(), []);
});

test("resolve: auto picks none without nvidia-smi; simulated GPUs are appended after real ones", async () => {
  const none = resolveGpuProbe({ gpu_probe: "auto", simulated_gpus: [] }, { hasNvidiaSmi: () => false });
  assert.equal(none.kind, "none");
  assert.deepEqual(await none.probe(), []);

  const auto = resolveGpuProbe({ gpu_probe: "auto", simulated_gpus: [] }, { hasNvidiaSmi: () => true, runner: async () => H100_BOX });
  assert.equal(auto.kind, "nvidia-smi");

  const mixed = resolveGpuProbe({ gpu_probe: "nvidia-smi", simulated_gpus: [{ name: "Sim 24GB", vram_mb: 24576 }] }, { runner: async () => H100_BOX });
  const gpus = await mixed.probe();
  assert.deepEqual(
    gpus.map((g) => [g.index, g.simulated]),
    [
      [0, false],
      [1, false],
      [2, false],
      [3, true],
    ],
  );

  const sim = resolveGpuProbe({
    gpu_probe: "simulated",
    simulated_gpus: [
      { name: "Sim A", vram_mb: 24576 },
      { name: "Sim B", vram_mb: 8192 },
    ],
  });
  sim.attachUsage?.((i) => (i === 0 ? 22048 : 0));
  const sg = await sim.probe();
  assert.deepEqual(
    sg.map((g) => [g.index, g.name, g.memory_total_mb, g.memory_used_mb, g.simulated]),
    [
      [0, "Sim A", 24576, 22048, true],
      [1, "Sim B", 8192, 0, true],
    ],
  );
  assert.ok(sim instanceof SimulatedGpuProbe);
  assert.equal(binaryExists("definitely-not-a-binary-xyz"), false);
  assert.equal(binaryExists("sleep"), true);
});
