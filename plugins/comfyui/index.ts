/**
 * The comfyui plugin: image.generate (SDXL base 1.0, SDXL-Turbo, FLUX.1 schnell/dev),
 * video.generate (LTX-Video 0.9.7 distilled, text- and image-to-video) and video.animate with
 * an image-to-video model (LTX-Video; Ken Burns stays the video plugin's default) on ComfyUI servers,
 * one per GPU of the node, attached by URL or supervised (runtime/config.ts documents
 * `plugins.comfyui`).
 *
 * - Models: the manifest lists every catalog model (models/*.yaml, runtime comfyui) that has a
 *   workflow template; which of them the node advertises is discovered at run time from each
 *   instance's /object_info (discoverModels), so absent weights are never advertised and are
 *   reported with the instance and file that lack them.
 * - Placement: load() binds the model to the instance of the task's GPU (the agent's VRAM
 *   accounting and warm-model affinity then work as for any plugin); unload(), called when the
 *   agent's LRU evicts the model, asks that instance to /free its models and memory.
 * - Telemetry: VRAM per GPU from /system_stats (gpuTelemetry).
 *
 * The default export is one plugin per process; createComfyPlugin() makes another (tests run
 * several agents in one process).
 */
import path from "node:path";
import {
  definePlugin,
  type ModelDiscovery,
  type ModelSpec,
  type Plugin,
  type PluginInitContext,
  type Task,
  type TaskContext,
} from "../../core/plugin-contract.ts";
import { FarmError } from "../../core/errors.ts";
import { COMFY_MODELS, availableModelsOn } from "./workflows/index.ts";
import { comfyManifest } from "./manifest.ts";
import { parseComfyConfig, type ComfyConfig } from "./runtime/config.ts";
import { InstancePool } from "./runtime/pool.ts";
import { Supervisor } from "./runtime/supervisor.ts";
import type { ComfyInstance } from "./runtime/instance.ts";
import { generateImage } from "./jobs/image.ts";
import { animateVideo, generateVideo } from "./jobs/video.ts";

/** What load() returns: the instance the model is bound to on its GPU. */
export interface ComfyModelHandle {
  instance: ComfyInstance;
  model_id: string;
}

export function createComfyPlugin(opts: { now?: () => number } = {}): Plugin & { pool(): InstancePool | null } {
  const now = opts.now ?? Date.now;
  const manifest = comfyManifest(COMFY_MODELS);
  const modelIds = manifest.models.map((m) => m.id);
  let pool: InstancePool | null = null;
  let cfg: ComfyConfig | null = null;

  const instanceFor = (gpu: number | null | undefined, model: string): ComfyInstance => {
    if (!pool) throw new FarmError("CAPABILITY_UNAVAILABLE", "the comfyui plugin is not initialised");
    if (gpu === null || gpu === undefined) {
      throw new FarmError("GPU_ERROR", `model '${model}' runs on ComfyUI, which needs a GPU: the task was placed on none`, { model });
    }
    const inst = pool.forGpu(gpu);
    if (!inst) {
      throw new FarmError(
        "GPU_ERROR",
        `no ComfyUI instance serves GPU ${gpu} on this node (instances on GPUs: ${pool.instances.map((i) => i.gpu_index).join(", ") || "none"})`,
        { gpu_index: gpu, model },
      );
    }
    if (inst.state !== "healthy") {
      // Retryable: a supervised instance comes back, and another GPU may have a live one.
      throw new FarmError(
        "GPU_ERROR",
        `${inst.label} is ${inst.state}${inst.reason ? `: ${inst.reason}` : ""}`,
        { gpu_index: gpu, model, reason: "comfyui_down" },
        true,
      );
    }
    return inst;
  };

  const onLost = async (inst: ComfyInstance, why: string): Promise<void> => {
    await pool?.lost(inst, why);
  };

  const plugin = definePlugin({
    manifest,

    async init(ctx: PluginInitContext) {
      cfg = parseComfyConfig(ctx.config);
      // A supervised ComfyUI saves under the node's data folder unless told otherwise: the
      // agent then reads outputs from disk (jobs/local-output.ts), on the file system the fs
      // artifact store is on, so they are hard-linked rather than copied.
      if (cfg.supervise && !cfg.supervise.output_dir && !Supervisor.outputDirFor(cfg.supervise, 0) && ctx.dataDir)
        cfg = { ...cfg, supervise: { ...cfg.supervise, output_dir: path.join(ctx.dataDir, "comfyui-output") } };
      pool = new InstancePool({
        config: cfg,
        gpus: ctx.gpus,
        logger: ctx.logger,
        modelIds,
        availability: (info, listFolder) => availableModelsOn(info, listFolder),
        onChange: () => ctx.modelsChanged?.(),
        now,
      });
      await pool.start();
    },

    async discoverModels(): Promise<ModelDiscovery> {
      if (!pool) return { missing: Object.fromEntries(modelIds.map((id) => [id, ["the comfyui plugin is not initialised"]])) };
      return pool.discover();
    },

    async gpuTelemetry() {
      return pool?.gpuReports() ?? [];
    },

    async load(model: ModelSpec, ctx: PluginInitContext): Promise<ComfyModelHandle> {
      // ComfyUI loads weights lazily on the first prompt that needs them; binding here puts
      // the model in the agent's VRAM accounting on that GPU.
      return { instance: instanceFor(ctx.gpu_index, model.id), model_id: model.id };
    },

    async unload(_model: ModelSpec, handle: unknown) {
      const h = handle as ComfyModelHandle | undefined;
      if (!h?.instance || h.instance.state !== "healthy") return; // a dead instance holds nothing
      // ComfyUI cannot unload one model by name: /free unloads every model of that instance
      // (each reloads on its next prompt) and frees its cached memory.
      await h.instance.client.free({ unload_models: true, free_memory: true });
    },

    async run(task: Task, ctx: TaskContext) {
      const model = task.model;
      if (!model) throw new FarmError("VALIDATION_ERROR", `job type ${task.type} needs a model`, { field: "model", constraint: "required" });
      const handle = ctx.model as ComfyModelHandle | undefined;
      const inst = handle?.instance ?? instanceFor(task.gpu_index, model);
      if (inst.state !== "healthy") {
        // The model stayed resident in the agent's view while its server died: fail fast, retryable.
        throw new FarmError(
          "GPU_ERROR",
          `${inst.label} is ${inst.state}${inst.reason ? `: ${inst.reason}` : ""}`,
          { gpu_index: inst.gpu_index, model, reason: "comfyui_down" },
          true,
        );
      }
      const deps = { timeoutMs: (cfg?.job_timeout_s ?? 1800) * 1000, onLost, now, discoveryIntervalMs: cfg?.discovery_interval_ms ?? 30_000 };
      switch (task.type) {
        case "image.generate":
          return generateImage(task, ctx, inst, deps);
        case "video.generate":
          return generateVideo(task, ctx, inst, deps);
        case "video.animate":
          return animateVideo(task, ctx, inst, deps);
        default:
          throw new FarmError("VALIDATION_ERROR", `comfyui plugin cannot run job type '${task.type}'`, {
            field: "type",
            constraint: "image.generate | video.generate | video.animate",
          });
      }
    },

    async close() {
      await pool?.stop();
    },
  });
  return Object.assign(plugin, { pool: () => pool });
}

export default createComfyPlugin();
