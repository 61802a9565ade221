/**
 * Plugin discovery and start-up checks.
 *
 * `loadPlugins(config)` finds `plugins/<name>/index.ts` (default export: Plugin), keeps
 * the ones `agent.plugins` names (["*"] = all), validates every manifest (a broken one
 * stops the agent with every problem listed: PluginManifestError), calls init() (a plugin
 * whose init throws, or whose module fails to import, is disabled with the reason and
 * reported, not a crash), and checks model files under the models directory (a model
 * whose files are missing is not advertised and is listed with the missing paths).
 *
 * The result, a PluginSet, answers "which plugin runs job type X", "can model Y load
 * here" and produces the capability summary of NodeReport.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { JobTypeSpec, ModelSpec, Plugin, PluginInitContext } from "../core/plugin-contract.ts";
import type { FarmConfig } from "../core/config/schema.ts";
import type { GpuInfo, NodeReport } from "../core/telemetry.ts";
import type { Logger } from "../core/logger.ts";
import { silentLogger } from "../core/logger.ts";
import { FarmError } from "../core/errors.ts";
import { manifestProblems } from "./manifest-schema.ts";

/** The repository's plugins/ folder. */
export const DEFAULT_PLUGINS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "plugins");

/** A start-up error: one or more plugins are broken. `problems` lists every one. */
export class PluginManifestError extends FarmError {
  constructor(readonly problems: string[]) {
    super("VALIDATION_ERROR", `invalid plugin manifest(s):\n  - ${problems.join("\n  - ")}`, { field: "plugins", constraint: "manifest", problems });
    this.name = "PluginManifestError";
  }
}

export interface LoadedPlugin {
  /** Manifest name (also the `plugins.<name>` config key). */
  name: string;
  plugin: Plugin;
  /** Plugin-specific config (`plugins.<name>` in farm.config.yaml), {} when absent. */
  config: Record<string, unknown>;
  enabled: boolean;
  /** Why it is disabled (init threw, import failed). */
  disabled_reason?: string;
  /** model id -> absolute paths of its files that are missing. Those models are not advertised. */
  missing_models: Record<string, string[]>;
}

/** A model this node will not load, and why (for operators and `farmctl`). */
export interface UnavailableModel {
  plugin: string;
  model_id: string;
  missing: string[];
}

export type Capabilities = Pick<NodeReport, "job_types" | "models" | "model_vram">;

export class PluginSet {
  private readonly byType = new Map<string, { lp: LoadedPlugin; spec: JobTypeSpec }>();

  constructor(readonly plugins: readonly LoadedPlugin[], readonly modelsDir: string) {
    for (const lp of plugins) {
      if (!lp.enabled) continue;
      for (const spec of lp.plugin.manifest.job_types) this.byType.set(spec.type, { lp, spec });
    }
  }

  /** The enabled plugin serving a job type, with the job type's spec. */
  forJobType(type: string): { plugin: LoadedPlugin; spec: JobTypeSpec } | undefined {
    const hit = this.byType.get(type);
    return hit ? { plugin: hit.lp, spec: hit.spec } : undefined;
  }

  /** The model's spec in that plugin's manifest. */
  modelSpec(plugin: LoadedPlugin, modelId: string): ModelSpec | undefined {
    return plugin.plugin.manifest.models.find((m) => m.id === modelId);
  }

  /** Missing files (absolute paths) when the model cannot load here; [] when it can. */
  missingFiles(plugin: LoadedPlugin, modelId: string): string[] {
    return plugin.missing_models[modelId] ?? [];
  }

  unavailableModels(): UnavailableModel[] {
    return this.plugins.flatMap((lp) => Object.entries(lp.missing_models).map(([model_id, missing]) => ({ plugin: lp.name, model_id, missing })));
  }

  disabled(): { name: string; reason: string }[] {
    return this.plugins.filter((p) => !p.enabled).map((p) => ({ name: p.name, reason: p.disabled_reason ?? "disabled" }));
  }

  /** NodeReport's capability fields: job types, loadable models per job type, VRAM per model. */
  capabilities(): Capabilities {
    const job_types: string[] = [];
    const models: Record<string, string[]> = {};
    const model_vram: Record<string, number> = {};
    for (const [type, { lp, spec }] of this.byType) {
      job_types.push(type);
      const loadable = (spec.models ?? []).filter((id) => !lp.missing_models[id]);
      models[type] = loadable;
      for (const id of loadable) {
        const m = this.modelSpec(lp, id);
        // Two plugins may reuse an id; advertise the larger need so placement stays safe.
        if (m) model_vram[id] = Math.max(model_vram[id] ?? 0, m.vram_mb);
      }
    }
    job_types.sort();
    return { job_types, models, model_vram };
  }
}

/** A plugin module found on disk (before validation). */
export interface PluginCandidate {
  /** Folder name under plugins/. */
  name: string;
  /** The module's default export, or the import error. */
  plugin: unknown;
  importError?: string;
}

/** Import `plugins/<name>/index.ts` for the folders the filter allows (["*"] = all). */
export async function discoverPlugins(pluginsDir: string, filter: readonly string[]): Promise<{ candidates: PluginCandidate[]; problems: string[] }> {
  const all = filter.includes("*");
  const problems: string[] = [];
  const dirs = fs.existsSync(pluginsDir)
    ? fs.readdirSync(pluginsDir, { withFileTypes: true }).filter((d) => d.isDirectory() && fs.existsSync(path.join(pluginsDir, d.name, "index.ts"))).map((d) => d.name).sort()
    : [];
  if (!all) {
    for (const want of filter) if (!dirs.includes(want)) problems.push(`agent.plugins names '${want}' but ${path.join(pluginsDir, want, "index.ts")} does not exist`);
  }
  const candidates: PluginCandidate[] = [];
  for (const name of dirs) {
    if (!all && !filter.includes(name)) continue;
    try {
      const mod = (await import(pathToFileURL(path.join(pluginsDir, name, "index.ts")).href)) as { default?: unknown };
      candidates.push({ name, plugin: mod.default });
    } catch (err) {
      candidates.push({ name, plugin: undefined, importError: err instanceof Error ? err.message : String(err) });
    }
  }
  return { candidates, problems };
}

export interface PrepareOptions {
  modelsDir: string;
  /** `plugins` section of the config: per-plugin settings by manifest name. */
  pluginConfig?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  gpus?: GpuInfo[];
  logger?: Logger;
  /** Problems found earlier (discovery) to report together with manifest problems. */
  problems?: string[];
}

/**
 * Validate, init and file-check already-imported plugins. Throws PluginManifestError
 * listing every problem when any manifest is broken; otherwise never throws.
 */
export async function preparePlugins(candidates: readonly PluginCandidate[], opts: PrepareOptions): Promise<PluginSet> {
  const logger = opts.logger ?? silentLogger;
  const problems = [...(opts.problems ?? [])];
  const valid: { name: string; plugin: Plugin }[] = [];
  const failedImport: LoadedPlugin[] = [];
  const typeOwner = new Map<string, string>();
  for (const c of candidates) {
    const label = `plugins/${c.name}`;
    if (c.importError !== undefined) {
      failedImport.push({ name: c.name, plugin: { manifest: { name: c.name, version: "?", runtime: "cpu", job_types: [], models: [] }, run: notRunnable }, config: {}, enabled: false, disabled_reason: `import failed: ${c.importError}`, missing_models: {} });
      continue;
    }
    const p = c.plugin as Partial<Plugin> | undefined;
    if (!p || typeof p !== "object") {
      problems.push(`${label}: index.ts must default-export a Plugin ({manifest, run}); got ${p === undefined ? "no default export" : typeof p}`);
      continue;
    }
    const before = problems.length;
    if (typeof p.run !== "function") problems.push(`${label}: run must be a function`);
    for (const fn of ["init", "load", "unload"] as const) {
      if (p[fn] !== undefined && typeof p[fn] !== "function") problems.push(`${label}: ${fn} must be a function when present`);
    }
    problems.push(...manifestProblems(p.manifest, label));
    if (problems.length > before) continue;
    const plugin = p as Plugin;
    for (const jt of plugin.manifest.job_types) {
      const other = typeOwner.get(jt.type);
      if (other) problems.push(`${label}: job type '${jt.type}' is also served by plugin '${other}'`);
      else typeOwner.set(jt.type, plugin.manifest.name);
    }
    valid.push({ name: plugin.manifest.name, plugin });
  }
  if (problems.length > 0) throw new PluginManifestError(problems);

  const loaded: LoadedPlugin[] = [...failedImport];
  for (const fi of failedImport) logger.error("plugin disabled", { plugin: fi.name, reason: fi.disabled_reason });
  for (const { name, plugin } of valid) {
    const config = { ...(opts.pluginConfig?.[name] ?? {}) };
    const lp: LoadedPlugin = { name, plugin, config, enabled: true, missing_models: missingModels(plugin, opts.modelsDir) };
    for (const [id, missing] of Object.entries(lp.missing_models)) {
      logger.warn("model not available: files missing", { plugin: name, model: id, missing });
    }
    const ictx: PluginInitContext = { logger: logger.child({ plugin: name }), modelsDir: opts.modelsDir, config, gpus: opts.gpus ?? [] };
    try {
      await plugin.init?.(ictx);
    } catch (err) {
      lp.enabled = false;
      lp.disabled_reason = `init failed: ${err instanceof Error ? err.message : String(err)}`;
      logger.error("plugin disabled", { plugin: name, reason: lp.disabled_reason });
    }
    loaded.push(lp);
  }
  return new PluginSet(loaded, opts.modelsDir);
}

function notRunnable(): Promise<Record<string, unknown>> {
  return Promise.reject(new FarmError("CAPABILITY_UNAVAILABLE", "plugin is disabled"));
}

function missingModels(plugin: Plugin, modelsDir: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const m of plugin.manifest.models) {
    const missing = m.files.map((f) => path.join(modelsDir, f)).filter((f) => !fs.existsSync(f));
    if (missing.length > 0) out[m.id] = missing;
  }
  return out;
}

/** Discover + prepare, from the farm config. Throws PluginManifestError on broken manifests. */
export async function loadPlugins(
  config: Pick<FarmConfig, "agent" | "plugins" | "paths">,
  opts: { pluginsDir?: string; gpus?: GpuInfo[]; logger?: Logger } = {},
): Promise<PluginSet> {
  const { candidates, problems } = await discoverPlugins(opts.pluginsDir ?? DEFAULT_PLUGINS_DIR, config.agent.plugins);
  return preparePlugins(candidates, { modelsDir: config.paths.models, pluginConfig: config.plugins, gpus: opts.gpus, logger: opts.logger, problems });
}
