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
 * Several plugins may serve one job type when each declares its own models (ComfyUI and a
 * remote provider both serve image.generate): the task's model picks the plugin. Plugins
 * whose models are found at run time (discoverModels) skip the file check; their missing
 * models are what discovery says, refreshed on every telemetry tick.
 *
 * The result, a PluginSet, answers "which plugin runs job type X with model M", "can
 * model Y load here" and produces the capability summary of NodeReport.
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

export type Capabilities = Pick<NodeReport, "job_types" | "models" | "model_vram" | "model_cpu_fallback">;

interface Server {
  lp: LoadedPlugin;
  spec: JobTypeSpec;
}

export class PluginSet {
  /** job type -> the enabled plugins serving it, in plugin order (several may: chosen by model). */
  private readonly byType = new Map<string, Server[]>();
  /** model id -> VRAM need reported by discovery, overriding the manifest's figure. */
  private readonly discoveredVram = new Map<LoadedPlugin, Record<string, number>>();
  private readonly changeListeners: (() => void)[] = [];

  constructor(
    readonly plugins: readonly LoadedPlugin[],
    readonly modelsDir: string,
    private readonly logger: Logger = silentLogger,
  ) {
    for (const lp of plugins) {
      if (!lp.enabled) continue;
      for (const spec of lp.plugin.manifest.job_types) {
        const list = this.byType.get(spec.type) ?? [];
        list.push({ lp, spec });
        this.byType.set(spec.type, list);
      }
    }
  }

  /** The first enabled plugin serving a job type, with the job type's spec (see forTask to choose by model). */
  forJobType(type: string): { plugin: LoadedPlugin; spec: JobTypeSpec } | undefined {
    const hit = this.byType.get(type)?.[0];
    return hit ? { plugin: hit.lp, spec: hit.spec } : undefined;
  }

  /**
   * The job type's params schema, as agents advertise it. One per type: preparePlugins
   * refuses to start when two plugins serving a type declare different ones.
   */
  paramSchema(type: string): JobTypeSpec["params"] {
    return this.byType.get(type)?.find((s) => s.spec.params !== undefined)?.spec.params;
  }

  /**
   * The plugin that runs a task of `type` with `model`: among the plugins serving the type,
   * one that can run the model now, else one that declares it (its run then fails with the
   * reason the model is missing), else the first (which rejects the unknown model naming
   * its models). Without a model: the first plugin whose default model can run, else the first.
   */
  forTask(type: string, model: string | undefined): { plugin: LoadedPlugin; spec: JobTypeSpec } | undefined {
    const list = this.byType.get(type);
    if (!list || list.length === 0) return undefined;
    const pick = (s: Server | undefined) => (s ? { plugin: s.lp, spec: s.spec } : undefined);
    if (model === undefined) {
      return pick(list.find((s) => s.spec.default_model !== undefined && !s.lp.missing_models[s.spec.default_model]) ?? list[0]);
    }
    const declaring = list.filter((s) => (s.spec.models ?? []).includes(model));
    return pick(declaring.find((s) => !s.lp.missing_models[model]) ?? declaring[0] ?? list[0]);
  }

  /** Every model id any plugin declares for a job type (for error messages). */
  modelsOf(type: string): string[] {
    return [...new Set((this.byType.get(type) ?? []).flatMap((s) => s.spec.models ?? []))];
  }

  /** The model's spec in that plugin's manifest, with the VRAM need discovery reported. */
  modelSpec(plugin: LoadedPlugin, modelId: string): ModelSpec | undefined {
    const m = plugin.plugin.manifest.models.find((x) => x.id === modelId);
    const vram = this.discoveredVram.get(plugin)?.[modelId];
    return m && vram !== undefined ? { ...m, vram_mb: vram } : m;
  }

  /** Why the model cannot load here (missing files, no live server); [] when it can. */
  missingFiles(plugin: LoadedPlugin, modelId: string): string[] {
    return plugin.missing_models[modelId] ?? [];
  }

  unavailableModels(): UnavailableModel[] {
    return this.plugins.flatMap((lp) => Object.entries(lp.missing_models).map(([model_id, missing]) => ({ plugin: lp.name, model_id, missing })));
  }

  disabled(): { name: string; reason: string }[] {
    return this.plugins.filter((p) => !p.enabled).map((p) => ({ name: p.name, reason: p.disabled_reason ?? "disabled" }));
  }

  /** Enabled plugins that report GPU telemetry of their own. */
  gpuReporters(): LoadedPlugin[] {
    return this.plugins.filter((lp) => lp.enabled && typeof lp.plugin.gpuTelemetry === "function");
  }

  /** Call every enabled plugin's close() (agent stop); failures are logged, never thrown. */
  async close(): Promise<void> {
    await Promise.all(
      this.plugins
        .filter((lp) => lp.enabled && typeof lp.plugin.close === "function")
        .map((lp) =>
          lp.plugin.close!().catch((err: unknown) =>
            this.logger.warn("plugin close failed", { plugin: lp.name, error: err instanceof Error ? err.message : String(err) }),
          ),
        ),
    );
  }

  /** Called after a refresh changed what some plugin can run. */
  onModelsChanged(listener: () => void): void {
    this.changeListeners.push(listener);
  }

  /**
   * Re-run discoverModels on the plugins that have it and replace their missing models.
   * Resolves true when anything changed (listeners are told). Never rejects.
   */
  async refreshModels(): Promise<boolean> {
    let changed = false;
    for (const lp of this.plugins) {
      const discover = lp.plugin.discoverModels;
      if (!lp.enabled || typeof discover !== "function") continue;
      let missing: Record<string, string[]>;
      let vram: Record<string, number> = {};
      try {
        const d = await discover.call(lp.plugin);
        missing = { ...d.missing };
        vram = { ...(d.vram_mb ?? {}) };
      } catch (err) {
        const why = `model discovery failed: ${err instanceof Error ? err.message : String(err)}`;
        missing = Object.fromEntries(lp.plugin.manifest.models.map((m) => [m.id, [why]]));
      }
      if (JSON.stringify(missing) !== JSON.stringify(lp.missing_models) || JSON.stringify(vram) !== JSON.stringify(this.discoveredVram.get(lp) ?? {})) {
        changed = true;
        this.logger.info("plugin models changed", { plugin: lp.name, unavailable: Object.keys(missing) });
      }
      lp.missing_models = missing;
      this.discoveredVram.set(lp, vram);
    }
    if (changed) for (const l of this.changeListeners) l();
    return changed;
  }

  /** NodeReport's capability fields: job types, loadable models per job type (merged over plugins), VRAM per model. */
  capabilities(): Capabilities {
    const job_types: string[] = [];
    const models: Record<string, string[]> = {};
    const model_vram: Record<string, number> = {};
    const cpuFallback: string[] = [];
    for (const [type, servers] of this.byType) {
      job_types.push(type);
      const loadable: string[] = [];
      for (const { lp, spec } of servers) {
        // The definition's default model first: the coordinator takes a node's first model
        // of a type as the default for jobs that name none (coordinator/requirements.ts).
        for (const id of defaultFirst(spec)) {
          if (lp.missing_models[id] || loadable.includes(id)) continue;
          loadable.push(id);
          const m = this.modelSpec(lp, id);
          // Two plugins may reuse an id; advertise the larger need so placement stays safe.
          if (m) model_vram[id] = Math.max(model_vram[id] ?? 0, m.vram_mb);
          if (m?.cpu_fallback && m.vram_mb > 0 && !cpuFallback.includes(id)) cpuFallback.push(id);
        }
      }
      models[type] = loadable;
    }
    job_types.sort();
    return cpuFallback.length > 0 ? { job_types, models, model_vram, model_cpu_fallback: cpuFallback } : { job_types, models, model_vram };
  }
}

/** A job type's models with its default model moved to the front. */
function defaultFirst(spec: JobTypeSpec): string[] {
  const models = spec.models ?? [];
  const d = spec.default_model;
  return d !== undefined && models.includes(d) ? [d, ...models.filter((m) => m !== d)] : [...models];
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
    ? fs
        .readdirSync(pluginsDir, { withFileTypes: true })
        .filter((d) => d.isDirectory() && fs.existsSync(path.join(pluginsDir, d.name, "index.ts")))
        .map((d) => d.name)
        .sort()
    : [];
  if (!all) {
    for (const want of filter)
      if (!dirs.includes(want)) problems.push(`agent.plugins names '${want}' but ${path.join(pluginsDir, want, "index.ts")} does not exist`);
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
  /** The node's data folder (`paths.data_dir`), for files a plugin keeps (PluginInitContext.dataDir). */
  dataDir?: string;
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
  /** "type model" -> plugin declaring it: two plugins may serve a type, never the same model of it. */
  const modelOwner = new Map<string, string>();
  const paramsOwner = new Map<string, { plugin: string; text: string }>();
  for (const c of candidates) {
    const label = `plugins/${c.name}`;
    if (c.importError !== undefined) {
      failedImport.push({
        name: c.name,
        plugin: { manifest: { name: c.name, version: "?", runtime: "cpu", job_types: [], models: [] }, run: notRunnable },
        config: {},
        enabled: false,
        disabled_reason: `import failed: ${c.importError}`,
        missing_models: {},
      });
      continue;
    }
    const p = c.plugin as Partial<Plugin> | undefined;
    if (!p || typeof p !== "object") {
      problems.push(`${label}: index.ts must default-export a Plugin ({manifest, run}); got ${p === undefined ? "no default export" : typeof p}`);
      continue;
    }
    const before = problems.length;
    if (typeof p.run !== "function") problems.push(`${label}: run must be a function`);
    for (const fn of ["init", "load", "unload", "discoverModels", "gpuTelemetry", "close"] as const) {
      if (p[fn] !== undefined && typeof p[fn] !== "function") problems.push(`${label}: ${fn} must be a function when present`);
    }
    problems.push(...manifestProblems(p.manifest, label));
    if (problems.length > before) continue;
    const plugin = p as Plugin;
    for (const jt of plugin.manifest.job_types) {
      // A job type has one params schema (its one definition, plugins/<name>/job-types.ts),
      // whichever plugin serves it: agents advertise it and the coordinator checks
      // submissions against it, so two plugins that disagree would make the check depend
      // on which one came first. Compared as JSON text (key order included: both should
      // import the same definition object).
      const text = JSON.stringify(jt.params ?? null);
      const first = paramsOwner.get(jt.type);
      if (first === undefined) paramsOwner.set(jt.type, { plugin: plugin.manifest.name, text });
      else if (first.text !== text)
        problems.push(
          `${label}: job type '${jt.type}' declares a params schema different from plugin '${first.plugin}''s (a job type has one definition: import the same one)`,
        );
      // Several plugins may serve one job type (ComfyUI and a remote provider for
      // image.generate); the task's model picks one, so a model must name exactly one plugin.
      // A job type without models cannot be told apart by model: one plugin only.
      const ids = jt.models && jt.models.length > 0 ? jt.models : [""];
      for (const id of ids) {
        const key = `${jt.type} ${id}`;
        const other = modelOwner.get(key);
        if (other === undefined) modelOwner.set(key, plugin.manifest.name);
        else if (id === "")
          problems.push(
            `${label}: job type '${jt.type}' is also served by plugin '${other}' (several plugins may serve a job type only when each declares its own models)`,
          );
        else problems.push(`${label}: model '${id}' of job type '${jt.type}' is also declared by plugin '${other}'`);
      }
    }
    valid.push({ name: plugin.manifest.name, plugin });
  }
  if (problems.length > 0) throw new PluginManifestError(problems);

  const loaded: LoadedPlugin[] = [...failedImport];
  // Plugins get modelsChanged before the set exists; it refreshes once the set is built.
  let set: PluginSet | undefined;
  const modelsChanged = async (): Promise<void> => {
    await set?.refreshModels();
  };
  for (const fi of failedImport) logger.error("plugin disabled", { plugin: fi.name, reason: fi.disabled_reason });
  for (const { name, plugin } of valid) {
    const config = { ...(opts.pluginConfig?.[name] ?? {}) };
    // Run-time models (discoverModels) are not files under the models directory.
    const dynamic = typeof plugin.discoverModels === "function";
    const lp: LoadedPlugin = { name, plugin, config, enabled: true, missing_models: dynamic ? {} : missingModels(plugin, opts.modelsDir) };
    for (const [id, missing] of Object.entries(lp.missing_models)) {
      logger.warn("model not available: files missing", { plugin: name, model: id, missing });
    }
    const ictx: PluginInitContext = {
      logger: logger.child({ plugin: name }),
      modelsDir: opts.modelsDir,
      ...(opts.dataDir !== undefined ? { dataDir: opts.dataDir } : {}),
      config,
      gpus: opts.gpus ?? [],
      modelsChanged,
    };
    try {
      await plugin.init?.(ictx);
    } catch (err) {
      lp.enabled = false;
      lp.disabled_reason = `init failed: ${err instanceof Error ? err.message : String(err)}`;
      logger.error("plugin disabled", { plugin: name, reason: lp.disabled_reason });
    }
    loaded.push(lp);
  }
  set = new PluginSet(loaded, opts.modelsDir, logger);
  await set.refreshModels();
  for (const lp of loaded) {
    if (!lp.enabled || typeof lp.plugin.discoverModels !== "function") continue;
    for (const [id, why] of Object.entries(lp.missing_models)) logger.warn("model not available", { plugin: lp.name, model: id, why });
  }
  return set;
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
  return preparePlugins(candidates, {
    modelsDir: config.paths.models,
    dataDir: config.paths.data_dir,
    pluginConfig: config.plugins,
    gpus: opts.gpus,
    logger: opts.logger,
    problems,
  });
}
