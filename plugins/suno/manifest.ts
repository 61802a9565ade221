/**
 * The suno plugin's manifest. Suno runs in the cloud behind an operator's self-hosted
 * Suno API bridge, so there are no models to load and no GPU to place on: any node whose
 * config names a bridge (`plugins.suno.base_url`) can serve these job types.
 */
import type { PluginManifest } from "../../core/plugin-contract.ts";

export const manifest: PluginManifest = {
  name: "suno",
  version: "1.0.0",
  description: "Suno music generation through an operator's self-hosted Suno API bridge",
  runtime: "remote-api",
  job_types: [
    { type: "suno.generate", description: "Generate songs (simple: a description; custom: lyrics + style + title), wait for the audio and save it under outputs/music/" },
    { type: "suno.lyrics", description: "Generate lyrics only (free on Suno)" },
    { type: "suno.credits", description: "The bridge account's credit balance" },
  ],
  models: [],
};
