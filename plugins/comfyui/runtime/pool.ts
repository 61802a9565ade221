/**
 * The node's ComfyUI instances, one per GPU: built from `plugins.comfyui` (attach to URLs,
 * or start them through the Supervisor), polled for health and VRAM (/system_stats every
 * health_interval_ms), and asked which weights they have (/object_info, re-read every
 * discovery_interval_ms and after each restart).
 *
 * A model is advertised when every live instance has its weights: the coordinator places a
 * job on a GPU of the node without knowing which instance holds what, so a model present on
 * one GPU only would fail on the others. The reasons name each instance that lacks it.
 */
import type { GpuInfo } from "../../../core/telemetry.ts";
import type { Logger } from "../../../core/logger.ts";
import type { ModelDiscovery, PluginGpuReport } from "../../../core/plugin-contract.ts";
import type { ObjectInfo } from "../client/index.ts";
import type { ComfyConfig } from "./config.ts";
import { ComfyInstance } from "./instance.ts";
import { Supervisor } from "./supervisor.ts";

/** Which of the catalog's models an /object_info can run (workflows' availableModels). */
/** What an instance can run: from its /object_info, and its model folders for files /object_info does not list. */
export type AvailabilityFn = (
  info: ObjectInfo,
  listFolder: (folder: string) => Promise<string[]>,
) => Promise<{ available: string[]; missing: Record<string, string[]> }> | { available: string[]; missing: Record<string, string[]> };

export interface PoolOptions {
  config: ComfyConfig;
  /** The GPUs the agent saw at init (supervise without `gpus` starts one per GPU). */
  gpus: readonly GpuInfo[];
  logger: Logger;
  /** Every model id the plugin declares. */
  modelIds: readonly string[];
  availability: AvailabilityFn;
  /** Something an advertisement depends on changed (an instance went down or came back). */
  onChange: () => Promise<void> | void;
  now?: () => number;
}

const MIB = 1024 * 1024;

export class InstancePool {
  readonly instances: ComfyInstance[] = [];
  readonly supervisor: Supervisor | null = null;
  private timer: NodeJS.Timeout | null = null;
  private polling = false;
  private readonly now: () => number;
  /** Why nothing runs here when there are no instances at all. */
  private readonly emptyReason: string;

  constructor(private readonly opts: PoolOptions) {
    this.now = opts.now ?? Date.now;
    const { config } = opts;
    const timeout = config.request_timeout_ms;
    if (config.supervise) {
      const sup = config.supervise;
      const gpus = sup.gpus ?? opts.gpus.map((g) => g.index);
      for (const g of gpus)
        this.instances.push(new ComfyInstance(g, `http://127.0.0.1:${Supervisor.portFor(sup, g)}`, timeout, Supervisor.outputDirFor(sup, g)));
      this.supervisor = new Supervisor(sup, opts.logger, (inst, why) => {
        if (inst.markDown(why)) void opts.onChange();
      });
      this.emptyReason = "plugins.comfyui.supervise found no GPU on this node: list them in plugins.comfyui.supervise.gpus";
    } else {
      for (const it of config.instances) this.instances.push(new ComfyInstance(it.gpu_index, it.url, timeout, it.output_dir));
      this.emptyReason =
        "no ComfyUI instance configured: set plugins.comfyui.instances (attach to running servers) or plugins.comfyui.supervise (start one per GPU)";
    }
  }

  /** Start supervised processes, poll every instance once, then keep polling. */
  async start(): Promise<void> {
    this.supervisor?.start(this.instances);
    if (!this.supervisor) await this.poll();
    this.timer = setInterval(() => void this.poll(), this.opts.config.health_interval_ms);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    // Each instance's client holds one websocket open between jobs.
    for (const i of this.instances) i.client.close();
    await this.supervisor?.stop();
  }

  forGpu(gpuIndex: number): ComfyInstance | undefined {
    return this.instances.find((i) => i.gpu_index === gpuIndex);
  }

  /** One health round over every instance; tells onChange when any changed state. */
  async poll(): Promise<void> {
    if (this.polling) return; // a slow server must not pile up polls
    this.polling = true;
    try {
      const changed = await Promise.all(this.instances.map((i) => i.check()));
      for (const i of this.instances) if (i.state === "healthy") this.supervisor?.healthy(i);
      changed.forEach((c, k) => {
        const i = this.instances[k]!;
        if (c)
          this.opts.logger.info(i.state === "healthy" ? "comfyui instance up" : "comfyui instance down", {
            gpu_index: i.gpu_index,
            url: i.url,
            reason: i.reason || undefined,
          });
      });
      if (changed.some(Boolean)) await this.opts.onChange();
    } finally {
      this.polling = false;
    }
  }

  /**
   * A job found the instance gone (connection refused, socket closed mid-prompt): mark it down
   * now and resolve once the node's advertisement no longer counts on it, so the failed
   * attempt's retry is not offered back to this instance while it is down.
   */
  async lost(inst: ComfyInstance, why: string): Promise<void> {
    if (inst.markDown(why)) {
      this.opts.logger.warn("comfyui instance lost during a job", { gpu_index: inst.gpu_index, url: inst.url, reason: why });
      await this.opts.onChange();
    }
  }

  /** The plugin's discoverModels: what every live instance can run, and why the rest cannot. */
  async discover(): Promise<ModelDiscovery> {
    const { modelIds } = this.opts;
    if (this.instances.length === 0) return { missing: Object.fromEntries(modelIds.map((id) => [id, [this.emptyReason]])) };
    const live: { inst: ComfyInstance; missing: Record<string, string[]> }[] = [];
    const down: string[] = [];
    for (const inst of this.instances) {
      if (inst.state !== "healthy") {
        down.push(`${inst.label} is ${inst.state === "starting" ? "starting" : "down"}${inst.reason ? `: ${inst.reason}` : ""}`);
        continue;
      }
      try {
        const now = this.now();
        const maxAge = this.opts.config.discovery_interval_ms;
        const info = await inst.objectInfo(now, maxAge);
        const missing = { ...(await this.opts.availability(info, (folder) => inst.listFolder(folder, now, maxAge))).missing };
        live.push({ inst, missing });
      } catch (err) {
        down.push(`${inst.label}: /object_info failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    const missing: Record<string, string[]> = {};
    for (const id of modelIds) {
      if (live.length === 0) {
        missing[id] = down;
        continue;
      }
      const lacking = live.filter((l) => l.missing[id]).map((l) => `${l.inst.label}: ${l.missing[id]!.join("; ")}`);
      if (lacking.length > 0) missing[id] = lacking;
    }
    return { missing };
  }

  /** VRAM per GPU from each live instance's /system_stats (bytes there, MiB here). */
  gpuReports(): PluginGpuReport[] {
    const out: PluginGpuReport[] = [];
    for (const inst of this.instances) {
      // One device per instance (CUDA_VISIBLE_DEVICES); a --cpu ComfyUI reports type "cpu".
      const dev = inst.stats?.devices.find((d) => d.type !== "cpu");
      if (!dev) continue;
      out.push({
        index: inst.gpu_index,
        name: dev.name,
        memory_total_mb: Math.round(dev.vram_total / MIB),
        memory_used_mb: Math.max(0, Math.round((dev.vram_total - dev.vram_free) / MIB)),
      });
    }
    return out;
  }
}
