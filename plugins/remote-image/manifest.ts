/**
 * The remote-image plugin's manifest. It declares the spec's remote model; at init the
 * model list is replaced by the models the operator's config maps to a provider with a
 * key (see index.ts), because what a remote plugin can run is decided by config, not by
 * files under the models directory.
 */
import type { PluginManifest } from "../../core/plugin-contract.ts";

export const SPEC_REMOTE_MODEL = "google/gemini-2.0-flash-exp:free";

export const manifest: PluginManifest = {
  name: "remote-image",
  version: "1.0.0",
  description:
    "Text-to-image through a remote provider: OpenRouter-style chat completions, Google's Gemini API, or any OpenAI-compatible /images/generations endpoint",
  runtime: "remote-api",
  job_types: [{ type: "image.generate", description: "Generate one image from a prompt", models: [SPEC_REMOTE_MODEL], default_model: SPEC_REMOTE_MODEL }],
  models: [{ id: SPEC_REMOTE_MODEL, vram_mb: 0, files: [], cpu_fallback: true, description: "Gemini 2.0 Flash image generation (remote)" }],
};
