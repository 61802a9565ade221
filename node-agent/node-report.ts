/**
 * What this node tells the coordinator about itself in each heartbeat (NodeReport): who it
 * is, what it can run (job types, models, params schemas), its GPUs and resident models,
 * its running jobs and load. The agent owns the changing state (draining, the GPU list,
 * running jobs) and passes it in; the rest is read here, at report time.
 */
import os from "node:os";
import type { FarmConfig } from "../core/config/schema.ts";
import type { Clock } from "../core/clock.ts";
import type { ParamSchema } from "../core/plugin-contract.ts";
import type { GpuInfo, NodeReport } from "../core/telemetry.ts";
import type { ModelManager } from "./model-manager.ts";
import type { PluginSet } from "./plugin-loader.ts";

export interface NodeReportSource {
  nodeId: string;
  hostname: string;
  /** When this agent process started: a change tells the coordinator the node restarted. */
  startedAt: number;
  config: FarmConfig;
  plugins: PluginSet;
  models: ModelManager;
  clock: Clock;
}

export class NodeReportBuilder {
  private schemas: Record<string, ParamSchema> | undefined;
  /**
   * The machine's logical CPUs, counted once: os.cpus() reads /proc/cpuinfo and /proc/stat and
   * builds an object per core (50-60 us CPU on this 2-core machine, growing with the cores of a
   * GPU node) while the heartbeat only needs their number, which does not change while the
   * agent runs. All of them, not os.availableParallelism(): the load
   * average it divides is the whole machine's.
   */
  private readonly cores = Math.max(1, os.cpus().length);

  constructor(private readonly src: NodeReportSource) {}

  build(state: { draining: boolean; gpus: readonly GpuInfo[]; runningJobs: string[] }): NodeReport {
    const { nodeId, hostname, startedAt, config, plugins, models, clock } = this.src;
    return {
      node_id: nodeId,
      hostname,
      started_at: startedAt,
      draining: state.draining,
      ...plugins.capabilities(),
      param_schemas: this.paramSchemas(),
      unavailable_models: plugins.unavailableModels(),
      // Simulated GPUs' used memory is ours to know; refresh it between probes.
      gpus: state.gpus.map((g) => (g.simulated ? { ...g, memory_used_mb: Math.min(g.memory_total_mb, models.usedMb(g.index)) } : { ...g })),
      resident: models.resident(),
      running_jobs: state.runningJobs,
      max_concurrent_jobs: config.agent.max_concurrent_jobs,
      cpu_load: Math.round((os.loadavg()[0]! / this.cores) * 100) / 100,
      reported_at: clock.now(),
    };
  }

  /** Job type -> its params schema, one per type whichever plugins serve it (static: made once). */
  private paramSchemas(): Record<string, ParamSchema> {
    if (!this.schemas) {
      const out: Record<string, ParamSchema> = {};
      for (const type of this.src.plugins.capabilities().job_types) {
        const schema = this.src.plugins.paramSchema(type);
        if (schema) out[type] = schema;
      }
      this.schemas = out;
    }
    return this.schemas;
  }
}
