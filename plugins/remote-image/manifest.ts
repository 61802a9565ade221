/**
 * The remote-image plugin's manifest. It declares the spec's remote model; at init the
 * model list is replaced by the models the operator's config maps to a provider with a
 * key (see index.ts), because what a remote plugin can run is decided by config, not by
 * files under the models directory.
 */
import type { PluginManifest } from "../../core/plugin-contract.ts";
import { withModels } from "../../core/job-types/define.ts";
import { IMAGE_GENERATE } from "../../core/job-types/image-generate.ts";

export const SPEC_REMOTE_MODEL = "google/gemini-2.0-flash-exp:free";

export const manifest: PluginManifest = {
  name: "remote-image",
  version: "1.0.0",
  description:
    "Text-to-image through a remote provider: OpenRouter-style chat completions, Google's Gemini API, or any OpenAI-compatible /images/generations endpoint",
  runtime: "remote-api",
  // image.generate's one definition (shared with plugins/comfyui), with the remote model.
  job_types: [withModels(IMAGE_GENERATE, [SPEC_REMOTE_MODEL], { default_model: SPEC_REMOTE_MODEL })],
  models: [{ id: SPEC_REMOTE_MODEL, vram_mb: 0, files: [], cpu_fallback: true, description: "Gemini 2.0 Flash image generation (remote)" }],
};
