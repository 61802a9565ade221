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
}

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
  config: Record<string, unknown>;
  gpus: GpuInfo[];
  /** In load()/unload() only: the GPU index the model is being loaded on (null = CPU). */
  gpu_index?: number | null;
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
}

export const definePlugin = (p: Plugin): Plugin => p;
