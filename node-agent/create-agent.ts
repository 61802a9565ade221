/**
 * Build an Agent from the farm config: resolve the GPU probe, probe once (plugins'
 * init() sees the GPUs), load and check plugins, construct the Agent. The transport
 * (node-agent/service.ts) supplies the reporter; the role launcher the artifact store.
 * Throws PluginManifestError (every problem listed) when a plugin manifest is broken.
 */
import os from "node:os";
import type { FarmConfig } from "../core/config/schema.ts";
import type { ArtifactStore } from "../core/artifact-store.ts";
import type { AgentReporter } from "../core/mesh-contract.ts";
import type { Clock } from "../core/clock.ts";
import type { Logger } from "../core/logger.ts";
import { silentLogger } from "../core/logger.ts";
import { Agent } from "./agent.ts";
import { resolveGpuProbe, type GpuProbe } from "./gpu-probe.ts";
import { loadPlugins, type PluginSet } from "./plugin-loader.ts";

/** config.node_id, else `<hostname>-<pid>` (unique when several agents share a box). */
export const defaultNodeId = (config: Pick<FarmConfig, "node_id">): string =>
  config.node_id ?? `${os.hostname().replace(/[^A-Za-z0-9._-]/g, "-")}-${process.pid}`;

export async function createAgentFromConfig(
  config: FarmConfig,
  deps: { reporter: AgentReporter; artifacts: ArtifactStore; logger?: Logger; clock?: Clock; nodeId?: string; probe?: GpuProbe; plugins?: PluginSet; pluginsDir?: string },
): Promise<Agent> {
  const logger = deps.logger ?? silentLogger;
  const probe = deps.probe ?? resolveGpuProbe(config.agent, { logger });
  const gpus = await probe.probe();
  logger.info("GPUs found", { probe: probe.kind, gpus: gpus.map((g) => `${g.index}: ${g.name} ${g.memory_total_mb} MiB${g.simulated ? " (simulated)" : ""}`) });
  const plugins = deps.plugins ?? (await loadPlugins(config, { gpus, logger, pluginsDir: deps.pluginsDir }));
  return new Agent({ nodeId: deps.nodeId ?? defaultNodeId(config), config, plugins, probe, artifacts: deps.artifacts, reporter: deps.reporter, clock: deps.clock, logger });
}
