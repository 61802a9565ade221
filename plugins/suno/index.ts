/**
 * The suno plugin: Suno music through an operator's self-hosted Suno API bridge
 * (gcui-art/suno-api and compatibles). Runtime "remote-api": no models, no GPU.
 *
 * Config: `plugins.suno` (see config.ts): base_url (required), api_key, timeout_ms,
 * poll_interval_ms, max_wait_s, download. Without base_url, init() throws
 * CAPABILITY_UNAVAILABLE, the agent disables the plugin, and the API answers 503.
 *
 * - suno.generate  params: mode simple|custom (default simple), prompt (1..3000),
 *                  style?, title?, instrumental (false), wait_audio (true), model (chirp-v3-5)
 *                  -> GenerateResult (generate.ts)
 * - suno.lyrics    params: prompt (1..2000) -> {title, text, lyrics}   (lyrics = text)
 * - suno.credits   -> {credits_left, monthly_limit, monthly_usage}
 * Bridge failures are EXTERNAL_API_ERROR with details {field: "suno", constraint, status?}.
 */
import { definePlugin } from "../../core/plugin-contract.ts";
import { FarmError } from "../../core/errors.ts";
import { manifest } from "./manifest.ts";
import { parseSunoConfig } from "./config.ts";
import { parseGenerateParams, parseLyricsParams } from "./params.ts";
import { SunoBridgeClient } from "./bridge-client.ts";
import { runGenerate } from "./generate.ts";

export default definePlugin({
  manifest,

  async init(ctx) {
    const cfg = parseSunoConfig(ctx.config);
    ctx.logger.info("suno bridge configured", { base_url: cfg.base_url, api_key: cfg.api_key ? "set" : "none" });
  },

  async run(task, ctx) {
    const cfg = parseSunoConfig(ctx.config);
    switch (task.type) {
      case "suno.generate":
        return runGenerate(task, parseGenerateParams(task.params), cfg, ctx);

      case "suno.lyrics": {
        const { prompt } = parseLyricsParams(task.params);
        ctx.progress(0, "Writing lyrics with Suno");
        const l = await new SunoBridgeClient(cfg, ctx.signal).lyrics(prompt);
        ctx.progress(100, "Done");
        return { title: l.title, text: l.text, lyrics: l.text };
      }

      case "suno.credits": {
        const c = await new SunoBridgeClient(cfg, ctx.signal).credits();
        return { credits_left: c.credits_left, monthly_limit: c.monthly_limit, monthly_usage: c.monthly_usage };
      }

      default:
        throw new FarmError("CAPABILITY_UNAVAILABLE", `suno does not serve job type ${task.type}`, { field: "type", constraint: "enum" });
    }
  },
});
