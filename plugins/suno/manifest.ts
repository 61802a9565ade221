/**
 * The suno plugin's manifest. Suno runs in the cloud behind an operator's self-hosted
 * Suno API bridge, so there are no models to load and no GPU to place on: any node whose
 * config names a bridge (`plugins.suno.base_url`) can serve these job types.
 */
import type { PluginManifest } from "../../core/plugin-contract.ts";
import { SUNO_CREDITS, SUNO_GENERATE, SUNO_LYRICS } from "./job-types.ts";

export const manifest: PluginManifest = {
  name: "suno",
  version: "1.0.0",
  description: "Suno music generation through an operator's self-hosted Suno API bridge",
  runtime: "remote-api",
  job_types: [SUNO_GENERATE, SUNO_LYRICS, SUNO_CREDITS],
  models: [],
};
