/**
 * The plugin contract. A plugin is data (a manifest) plus functions (load/unload/run).
 * Agents discover plugins from `plugins/<name>/index.ts` (default export: Plugin),
 * validate manifests at start, and advertise the job types and models they can run.
 */
import type { ArtifactStore } from "./artifact-store.ts";
import type { Logger } from "./logger.ts";
import type { GpuInfo } from "./telemetry.ts";

export type PluginRuntime = "cpu" | "ffmpeg" | "onnx" | "tfjs" | "comfyui" | "remote-api" | "python";

/** A model a plugin can load. VRAM is per GPU, in MiB. */
export interface ModelSpec {
  /** Stable id used in requests (`model` field) and in scheduling, e.g. "sdxl-base-1.0". */
  id: string;
  /** VRAM needed on one GPU while loaded, MiB. 0 = runs on CPU. */
  vram_mb: number;
  /** Files (relative to the configured models directory) that must exist to load it. */
  files: string[];
  /** Can run on CPU when no GPU fits (slower). Default false for vram_mb > 0. */
  cpu_fallback?: boolean;
  description?: string;
  /** Licence note shown to operators (e.g. "non-commercial research weights"). */
  license?: string;
}

export interface JobTypeSpec {
  /** Job type name, e.g. "video.assemble", "audio.analyze", "diag.echo". */
  type: string;
  description?: string;
  /** Model ids (from the manifest's models) this job type can use. Empty = no model. */
  models?: string[];
  /** Model used when the request names none. */
  default_model?: string;
  /**
   * JSON Schema of the job's `params` (what Ajv 8 compiles; no type coercion). Agents
   * advertise it and the coordinator checks every submission of this type against it, so
   * an out-of-range value is a 400 naming `params.<field>` at submit instead of a job that
   * fails later. Declare bounds once and use the same numbers in run().
   */
  params?: ParamSchema;
}

/** A JSON Schema object (the subset Ajv 8 compiles), e.g. `{type: "object", properties: {...}}`. */
export type ParamSchema = Record<string, unknown>;

export interface PluginManifest {
  name: string;
  version: string;
  description?: string;
  runtime: PluginRuntime;
  job_types: JobTypeSpec[];
  models: ModelSpec[];
}

/** One unit of work handed to a plugin. */
export interface Task {
  job_id: string;
  type: string;
  /** The job's params, read-only: in embedded mode they are the job store's own (frozen) object. */
  params: Readonly<Record<string, unknown>>;
  /** The model id chosen for the job, when the job type uses one. */
  model?: string;
  attempt: number;
  /** GPU index the task was placed on (null or absent = CPU). Plugins pick CUDA / NVENC device from it. */
  gpu_index?: number | null;
}

export interface TaskContext {
  /** Report progress 0..100 with a human message ("Encoding 120/300 frames"). Cheap; throttled by the agent. */
  progress(pct: number, message?: string): void;
  /** Aborted on cancel or drain-timeout. Long loops must check it; child processes must be killed on it. */
  signal: AbortSignal;
  artifacts: ArtifactStore;
  logger: Logger;
  /** A private temp folder for this task; the agent deletes it afterwards on every path. */
  workDir: string;
  /** The loaded model handle (what `load` returned), when the task uses a model. */
  model?: unknown;
  /** This node's GPUs (empty on CPU-only nodes); plugins pick NVENC / CUDA from it. */
  gpus: GpuInfo[];
  /** The configured models directory (absolute). */
  modelsDir: string;
  /** Plugin-specific config from farm.config.yaml (`plugins.<name>`). */
  config: Record<string, unknown>;
  /**
   * Register a child process so the agent can kill it (SIGTERM, then SIGKILL after the
   * grace period) on cancel even if the plugin ignores the signal.
   */
  trackChild(child: { pid?: number; kill(signal?: NodeJS.Signals | number): boolean }): void;
}

export interface PluginInitContext {
  logger: Logger;
  modelsDir: string;
  /** The node's data folder (`paths.data_dir`; the fs artifact store lives there too), in init(). */
  dataDir?: string;
  config: Record<string, unknown>;
  gpus: GpuInfo[];
  /** In load()/unload() only: the GPU index the model is being loaded on (null = CPU). */
  gpu_index?: number | null;
  /**
   * For plugins with discoverModels: call when what the plugin can run changed (a server it
   * drives restarted, weights appeared). The agent re-runs discoverModels and heartbeats at
   * once instead of waiting for the next telemetry tick; the promise settles when the new
   * view is in place (await it before failing a task over a lost server, so the retry is
   * not offered to this node while the server is down).
   */
  modelsChanged?: () => Promise<void>;
}

/**
 * What a plugin with run-time models can run now. Models of the manifest that are not in
 * `missing` are advertised; the ones in it are not, and are reported with the reasons.
 */
export interface ModelDiscovery {
  /** model id -> why it cannot run here now (missing weight files, no live server, ...). */
  missing: Record<string, string[]>;
  /** model id -> VRAM need (MiB) when it differs from the manifest's figure. */
  vram_mb?: Record<string, number>;
}

/** VRAM of one GPU as seen by a server the plugin drives (ComfyUI's /system_stats). */
export interface PluginGpuReport {
  index: number;
  name: string;
  memory_total_mb: number;
  memory_used_mb: number;
}

export interface Plugin {
  manifest: PluginManifest;
  /** Called once when the agent starts; throw to disable the plugin with a clear reason. */
  init?(ctx: PluginInitContext): Promise<void>;
  /**
   * Load a model into memory (VRAM). Throw FarmError MODEL_ERROR naming the expected
   * files when weights are missing. The returned handle is passed back as ctx.model.
   */
  load?(model: ModelSpec, ctx: PluginInitContext): Promise<unknown>;
  unload?(model: ModelSpec, handle: unknown): Promise<void>;
  /** Run one task. Return the job's result (the spec's response fields). Throw FarmError on failure. */
  run(task: Task, ctx: TaskContext): Promise<Record<string, unknown>>;
  /**
   * For plugins whose models are found at run time (a ComfyUI server advertises only the
   * weights it has): which manifest models can run now. Called after init() instead of the
   * file check under the models directory, then on every telemetry tick (keep it cheap:
   * cache and refresh on your own schedule) and after ctx.modelsChanged(). A rejection
   * marks every model of the plugin unavailable with the error as the reason.
   */
  discoverModels?(): Promise<ModelDiscovery>;
  /**
   * VRAM per GPU as seen by servers the plugin drives. The agent adds a reported GPU its
   * probe does not see (no nvidia-smi where the agent runs); a GPU the probe sees keeps
   * the driver's figures, which already include the server's memory.
   */
  gpuTelemetry?(): Promise<PluginGpuReport[]>;
  /** Called once when the agent stops: end what init() started (server processes, timers). */
  close?(): Promise<void>;
}

export const definePlugin = (p: Plugin): Plugin => p;
