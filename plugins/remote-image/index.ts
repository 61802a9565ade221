/**
 * The remote-image plugin: image.generate on a remote provider (protocols.ts), no GPU.
 *
 * Config `plugins.remote-image` (config.ts): providers with protocol, base URL, key (or
 * the env var holding it) and a model map. init() validates it (a malformed value
 * disables the plugin naming the key). What can run is reported through discoverModels,
 * the agent's run-time model channel: a model whose provider has a key is advertised; the
 * spec's `google/gemini-2.0-flash-exp:free` when not mapped, and every model of a provider
 * without a key, are listed as unavailable with the reason (heartbeats, `farmctl models`),
 * so the API answers 503 for them.
 */
import { definePlugin, type ModelDiscovery } from "../../core/plugin-contract.ts";
import { FarmError } from "../../core/errors.ts";
import { withModels } from "../../core/job-types/define.ts";
import { IMAGE_GENERATE } from "../../core/job-types/image-generate.ts";
import { manifest, SPEC_REMOTE_MODEL } from "./manifest.ts";
import { parseRemoteImageConfig, type RemoteImageConfig } from "./config.ts";
import { runRemoteImage } from "./generate.ts";

/** This agent's view (one agent process holds one config). */
let discovered: ModelDiscovery = { missing: { [SPEC_REMOTE_MODEL]: ["plugins.remote-image is not initialised"] } };

/** Every model the config names (usable or not) plus the spec's, with why each unusable one is. */
export function modelsOf(cfg: RemoteImageConfig): { ids: string[]; missing: Record<string, string[]> } {
  const missing: Record<string, string[]> = {};
  for (const s of cfg.skipped) for (const id of s.models) if (!cfg.byModel.has(id)) (missing[id] ??= []).push(`provider '${s.provider}': ${s.reason}`);
  if (!cfg.byModel.has(SPEC_REMOTE_MODEL) && !missing[SPEC_REMOTE_MODEL]) {
    missing[SPEC_REMOTE_MODEL] = ["not configured: map it under plugins.remote-image.providers.<name>.models (e.g. an openrouter-chat provider with a key)"];
  }
  const ids = [...new Set([...cfg.byModel.keys(), ...Object.keys(missing)])];
  return { ids, missing };
}

export default definePlugin({
  manifest,

  async init(ctx) {
    const cfg = parseRemoteImageConfig(ctx.config);
    for (const s of cfg.skipped) ctx.logger.warn("remote image provider left out", { provider: s.provider, models: s.models, reason: s.reason });
    const { ids, missing } = modelsOf(cfg);
    // The manifest lists what the config names, so the agent can advertise or explain each.
    manifest.models = ids.map((id) => ({
      id,
      vram_mb: 0,
      files: [],
      cpu_fallback: true,
      description: cfg.byModel.has(id) ? `remote: ${cfg.byModel.get(id)!.name}` : "remote (unavailable)",
    }));
    manifest.job_types[0] = withModels(IMAGE_GENERATE, ids, { default_model: [...cfg.byModel.keys()][0] ?? SPEC_REMOTE_MODEL });
    discovered = { missing };
    ctx.logger.info("remote image providers configured", {
      providers: cfg.providers.map((p) => ({ name: p.name, protocol: p.protocol, base_url: p.base_url, models: Object.keys(p.models) })),
    });
  },

  async discoverModels() {
    return discovered;
  },

  async run(task, ctx) {
    if (task.type !== "image.generate")
      throw new FarmError("CAPABILITY_UNAVAILABLE", `remote-image does not serve job type ${task.type}`, { field: "type", constraint: "enum" });
    // Parsed per task (microseconds): the config given to this agent, keys read from its env now.
    return runRemoteImage(task, ctx, parseRemoteImageConfig(ctx.config));
  },
});
