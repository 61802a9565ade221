/**
 * The GPUs this node reports: the probe's (nvidia-smi, or simulated ones), plus those that
 * only a plugin's server sees (ComfyUI's /system_stats on a host where the agent has no
 * nvidia-smi). A GPU the probe already lists keeps the probe's figures: the driver counts
 * every process's memory, the server only its own. A failing probe or plugin is logged and
 * leaves its GPUs out; it never fails the heartbeat.
 */
import type { GpuInfo } from "../core/telemetry.ts";
import type { Logger } from "../core/logger.ts";
import type { GpuProbe } from "./gpu-probe.ts";
import type { PluginSet } from "./plugin-loader.ts";

export async function nodeGpus(probe: GpuProbe, plugins: PluginSet, logger: Logger): Promise<GpuInfo[]> {
  let gpus: GpuInfo[] = [];
  try {
    gpus = await probe.probe();
  } catch (err) {
    logger.error("GPU probe failed", { error: err instanceof Error ? err.message : String(err) });
  }
  const out = [...gpus];
  for (const lp of plugins.gpuReporters()) {
    let reported: Awaited<ReturnType<NonNullable<typeof lp.plugin.gpuTelemetry>>> = [];
    try {
      reported = (await lp.plugin.gpuTelemetry?.()) ?? [];
    } catch (err) {
      logger.warn("plugin GPU telemetry failed", { plugin: lp.name, error: err instanceof Error ? err.message : String(err) });
    }
    for (const g of reported) {
      if (out.some((x) => x.index === g.index)) continue;
      out.push({
        index: g.index,
        uuid: `${lp.name}-${g.index}`,
        name: g.name,
        memory_total_mb: g.memory_total_mb,
        memory_used_mb: g.memory_used_mb,
        utilization_pct: null,
        temperature_c: null,
        simulated: false,
      });
    }
  }
  return out.sort((a, b) => a.index - b.index);
}
