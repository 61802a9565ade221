/**
 * The diag plugin's manifest: its job types are job-types.ts's definitions. Its models hold
 * no weights (files: []): they exist so operators and tests can drill placement, VRAM
 * budgeting and eviction on simulated GPUs (e.g. a 24 GB GPU fits diag-large + diag-small,
 * but loading diag-medium next to diag-large evicts it).
 */
import type { PluginManifest } from "../../core/plugin-contract.ts";
import { DIAG_ECHO, DIAG_FAIL, DIAG_GPU, DIAG_MODELS, DIAG_SLEEP } from "./job-types.ts";

export { DIAG_MODELS } from "./job-types.ts";

export const manifest: PluginManifest = {
  name: "diag",
  version: "1.0.0",
  description: "Built-in smoke tests: echo, sleep with progress, fail on request, model placement drills",
  runtime: "cpu",
  job_types: [DIAG_ECHO, DIAG_SLEEP, DIAG_FAIL, DIAG_GPU],
  models: Object.entries(DIAG_MODELS).map(([id, vram_mb]) => ({
    id,
    vram_mb,
    files: [],
    description: `Weightless stand-in model reserving ${vram_mb} MiB of VRAM`,
  })),
};
