/**
 * The model loader the ModelManager uses for each plugin (one per plugin, made on first
 * use): it calls the plugin's own load/unload with a context for the GPU the model goes on.
 * A plugin without load() holds no model state (undefined handle); without unload() there
 * is nothing to free.
 */
import type { Logger } from "../core/logger.ts";
import type { GpuInfo } from "../core/telemetry.ts";
import type { ModelLoader } from "./model-manager.ts";
import type { LoadedPlugin, PluginSet } from "./plugin-loader.ts";

export class PluginModelLoaders {
  private readonly byPlugin = new Map<string, ModelLoader>();

  /** `gpus`: the node's GPU list at load time (it is re-probed between loads). */
  constructor(
    private readonly plugins: PluginSet,
    private readonly logger: Logger,
    private readonly gpus: () => GpuInfo[],
  ) {}

  for(lp: LoadedPlugin): ModelLoader {
    let l = this.byPlugin.get(lp.name);
    if (!l) {
      const ictx = (gpu: number | null) => ({
        logger: this.logger.child({ plugin: lp.name }),
        modelsDir: this.plugins.modelsDir,
        config: lp.config,
        gpus: this.gpus(),
        gpu_index: gpu,
      });
      const p = lp.plugin;
      l = {
        owner: lp.name,
        load: (spec, gpu) => (p.load ? p.load(spec, ictx(gpu)) : Promise.resolve(undefined)),
        unload: (spec, handle) => (p.unload ? p.unload(spec, handle) : Promise.resolve()),
      };
      this.byPlugin.set(lp.name, l);
    }
    return l;
  }
}
