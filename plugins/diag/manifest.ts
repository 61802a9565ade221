/**
 * The diag plugin's manifest. Its models hold no weights (files: []): they exist so
 * operators and tests can drill placement, VRAM budgeting and eviction on simulated GPUs
 * (e.g. a 24 GB GPU fits diag-large + diag-small, but loading diag-medium next to
 * diag-large evicts it).
 */
import type { PluginManifest } from "../../core/plugin-contract.ts";
import { PARAM_SCHEMAS } from "./bounds.ts";

export const DIAG_MODELS = {
  "diag-small": 2048,
  "diag-medium": 8192,
  "diag-large": 20000,
} as const;

export const manifest: PluginManifest = {
  name: "diag",
  version: "1.0.0",
  description: "Built-in smoke tests: echo, sleep with progress, fail on request, model placement drills",
  runtime: "cpu",
  job_types: [
    { type: "diag.echo", description: "Returns {echo: params} at once (throughput benchmark)" },
    {
      type: "diag.sleep",
      description: "Sleeps `seconds` in `steps`, reporting progress; child=true sleeps in a child process that ignores SIGTERM",
      params: PARAM_SCHEMAS["diag.sleep"],
    },
    {
      type: "diag.fail",
      description: "Fails with `code`/`message`/`retryable`; with fail_times=N only the first N attempts fail",
      params: PARAM_SCHEMAS["diag.fail"],
    },
    {
      type: "diag.gpu",
      description: "Loads a diag model on the placed GPU, optionally holds it `seconds`, reports model and GPU",
      models: Object.keys(DIAG_MODELS),
      default_model: "diag-small",
      params: PARAM_SCHEMAS["diag.gpu"],
    },
  ],
  models: Object.entries(DIAG_MODELS).map(([id, vram_mb]) => ({
    id,
    vram_mb,
    files: [],
    description: `Weightless stand-in model reserving ${vram_mb} MiB of VRAM`,
  })),
};
