/**
 * The remote-image plugin: image.generate on a remote provider (protocols.ts), no GPU.
 *
 * Config `plugins.remote-image` (config.ts): providers with protocol, base URL, key (or
 * the env var holding it) and a model map. init() validates it and advertises exactly
 * the models of providers that have a key; a provider without one is left out with the
 * reason in the log, and with no usable provider at all init() throws, so the agent
 * disables the plugin and reports why (the API then answers 503 for those models).
 */
import { definePlugin } from "../../core/plugin-contract.ts";
import { FarmError } from "../../core/errors.ts";
import { manifest } from "./manifest.ts";
import { parseRemoteImageConfig } from "./config.ts";
import { runRemoteImage } from "./generate.ts";

export default definePlugin({
  manifest,

  async init(ctx) {
    const cfg = parseRemoteImageConfig(ctx.config);
    for (const s of cfg.skipped) ctx.logger.warn("remote image provider left out", { provider: s.provider, models: s.models, reason: s.reason });
    if (cfg.byModel.size === 0) {
      const why = cfg.skipped.length > 0 ? cfg.skipped.map((s) => `${s.provider}: ${s.reason}`).join("; ") : "no providers configured under plugins.remote-image.providers";
      throw new FarmError("CAPABILITY_UNAVAILABLE", `remote-image has no usable provider (${why})`, { field: "plugins.remote-image.providers", constraint: "configured" });
    }
    // The agent advertises from the manifest: make it list the configured models only.
    // (One agent process holds one config, so the module-level manifest is this agent's.)
    const ids = [...cfg.byModel.keys()];
    manifest.models = ids.map((id) => ({ id, vram_mb: 0, files: [], cpu_fallback: true, description: `remote: ${cfg.byModel.get(id)!.name}` }));
    manifest.job_types[0]!.models = ids;
    manifest.job_types[0]!.default_model = ids[0]!;
    ctx.logger.info("remote image providers configured", { providers: cfg.providers.map((p) => ({ name: p.name, protocol: p.protocol, base_url: p.base_url, models: Object.keys(p.models) })) });
  },

  async run(task, ctx) {
    if (task.type !== "image.generate") throw new FarmError("CAPABILITY_UNAVAILABLE", `remote-image does not serve job type ${task.type}`, { field: "type", constraint: "enum" });
    // Parsed per task (microseconds): the config given to this agent, keys read from its env now.
    return runRemoteImage(task, ctx, parseRemoteImageConfig(ctx.config));
  },
});
