/**
 * The comfyui plugin's settings: `plugins.comfyui` in farm.config.yaml. Two ways to get a
 * ComfyUI per GPU, one of them per node:
 *
 * ```yaml
 * plugins:
 *   comfyui:
 *     # attach: ComfyUI servers the operator runs (one per GPU of this node)
 *     instances:
 *       - { url: "http://127.0.0.1:8188", gpu_index: 0 }
 *       - { url: "http://127.0.0.1:8189", gpu_index: 1 }
 *       # output_dir: where that server writes its outputs (its --output-directory), when this
 *       # agent can read that folder: outputs are taken from disk instead of GET /view
 *     # or supervise: the agent starts one ComfyUI per GPU and restarts it when it exits
 *     supervise:
 *       command: /opt/ComfyUI/.venv/bin/python   # required
 *       args: [main.py]                           # the agent appends --listen 127.0.0.1 --port N --cuda-device i
 *       cwd: /opt/ComfyUI
 *       port_base: 8188                           # GPU i listens on port_base + i
 *       env: {}                                   # extra environment (CUDA_VISIBLE_DEVICES is set per GPU)
 *       gpus: [0, 1]                              # default: every GPU the agent sees
 *       backoff_initial_ms: 1000                  # restart delay after an exit, doubling ...
 *       backoff_max_ms: 60000                     # ... up to this
 *       start_timeout_ms: 120000                  # healthy = /system_stats answers within this
 *       output_dir: /srv/comfyui-output           # GPU i gets --output-directory <output_dir>/gpu<i>,
 *                                                 # read from disk (else the args' own --output-directory;
 *                                                 # neither: <paths.data_dir>/comfyui-output, index.ts)
 *     request_timeout_ms: 30000                   # per HTTP call to ComfyUI
 *     job_timeout_s: 1800                         # one generation, queue wait included
 *     discovery_interval_ms: 30000                # re-read /object_info (weights added or removed)
 *     health_interval_ms: 2000                    # /system_stats poll (VRAM telemetry, liveness)
 * ```
 * No instances and no supervise: the plugin advertises nothing and says so per model. A bad
 * value is VALIDATION_ERROR naming `plugins.comfyui.<key>` (the plugin is disabled with it).
 */
import path from "node:path";
import { validation } from "../../../core/errors.ts";

export interface AttachedInstance {
  url: string;
  gpu_index: number;
  /** The server's output folder as this agent sees it (absolute): outputs are read from it (jobs/local-output.ts). */
  output_dir?: string;
}

export interface SuperviseConfig {
  command: string;
  args: string[];
  cwd?: string;
  port_base: number;
  env: Record<string, string>;
  /** GPU indices to start an instance for; undefined = every GPU the agent sees. */
  gpus?: number[];
  backoff_initial_ms: number;
  backoff_max_ms: number;
  start_timeout_ms: number;
  /** Parent of each GPU's output folder (`<output_dir>/gpu<i>`, passed as --output-directory); absolute. */
  output_dir?: string;
}

export interface ComfyConfig {
  instances: AttachedInstance[];
  supervise?: SuperviseConfig;
  request_timeout_ms: number;
  job_timeout_s: number;
  discovery_interval_ms: number;
  health_interval_ms: number;
}

const P = "plugins.comfyui";
const bad = (key: string, constraint: string, message: string) => validation(`${P}.${key}`, constraint, `${P}.${key} ${message}`);

function int(raw: Record<string, unknown>, key: string, dflt: number, min: number, max: number, prefix = ""): number {
  const v = raw[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== "number" || !Number.isInteger(v)) throw bad(prefix + key, "integer", `must be an integer, got ${JSON.stringify(v)}`);
  if (v < min || v > max) throw bad(prefix + key, `${min}..${max}`, `must be between ${min} and ${max}, got ${v}`);
  return v;
}

function httpUrl(v: unknown, key: string): string {
  if (typeof v !== "string" || v.length === 0) throw bad(key, "url", `must be an http(s) URL, got ${JSON.stringify(v)}`);
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw bad(key, "url", `must be an absolute http(s) URL, got '${v}'`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw bad(key, "url", `must use http or https, got '${u.protocol}'`);
  return v.replace(/\/+$/, "");
}

/** An absolute folder path (a relative one would depend on the agent's cwd, not ComfyUI's). */
function absDir(v: unknown, key: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string" || !path.isAbsolute(v) || v.includes("\0"))
    throw bad(key, "absolute path", `must be an absolute folder path, got ${JSON.stringify(v)}`);
  return path.resolve(v);
}

function parseSupervise(raw: unknown): SuperviseConfig {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw bad("supervise", "object", "must be an object");
  const s = raw as Record<string, unknown>;
  const pre = "supervise.";
  if (typeof s.command !== "string" || s.command.length === 0)
    throw bad(`${pre}command`, "required", "is required (the ComfyUI launcher, e.g. the venv's python)");
  const args = s.args ?? [];
  if (!Array.isArray(args) || args.some((a) => typeof a !== "string")) throw bad(`${pre}args`, "string[]", "must be a list of strings");
  if (s.cwd !== undefined && (typeof s.cwd !== "string" || s.cwd.length === 0)) throw bad(`${pre}cwd`, "string", "must be a directory path");
  const env = s.env ?? {};
  if (env === null || typeof env !== "object" || Array.isArray(env) || Object.values(env).some((v) => typeof v !== "string")) {
    throw bad(`${pre}env`, "map", "must map names to string values");
  }
  let gpus: number[] | undefined;
  if (s.gpus !== undefined) {
    if (!Array.isArray(s.gpus) || s.gpus.length === 0 || s.gpus.some((g) => !Number.isInteger(g) || (g as number) < 0))
      throw bad(`${pre}gpus`, "integer[]", "must be a non-empty list of GPU indices");
    gpus = s.gpus as number[];
    if (new Set(gpus).size !== gpus.length) throw bad(`${pre}gpus`, "unique", "lists a GPU twice");
  }
  const port_base = int(s, "port_base", 8188, 1, 65535, pre);
  if (port_base + Math.max(0, ...(gpus ?? [0])) > 65535) throw bad(`${pre}port_base`, "range", "leaves no port for the highest GPU index");
  const backoff_initial_ms = int(s, "backoff_initial_ms", 1000, 10, 3_600_000, pre);
  const backoff_max_ms = int(s, "backoff_max_ms", 60_000, 10, 3_600_000, pre);
  if (backoff_max_ms < backoff_initial_ms) throw bad(`${pre}backoff_max_ms`, ">= backoff_initial_ms", `must be >= backoff_initial_ms (${backoff_initial_ms})`);
  return {
    command: s.command,
    args: args as string[],
    cwd: s.cwd as string | undefined,
    port_base,
    env: env as Record<string, string>,
    gpus,
    backoff_initial_ms,
    backoff_max_ms,
    start_timeout_ms: int(s, "start_timeout_ms", 120_000, 100, 3_600_000, pre),
    output_dir: absDir(s.output_dir, `${pre}output_dir`),
  };
}

/** Validate `plugins.comfyui` ({} = nothing configured: valid, serves nothing). */
export function parseComfyConfig(raw: Record<string, unknown> | undefined): ComfyConfig {
  const c = raw ?? {};
  const known = new Set(["instances", "supervise", "request_timeout_ms", "job_timeout_s", "discovery_interval_ms", "health_interval_ms"]);
  for (const k of Object.keys(c)) if (!known.has(k)) throw bad(k, "known key", `is not a setting (known: ${[...known].join(", ")})`);
  const instances: AttachedInstance[] = [];
  if (c.instances !== undefined && c.instances !== null) {
    if (!Array.isArray(c.instances)) throw bad("instances", "array", "must be a list of {url, gpu_index}");
    c.instances.forEach((it: unknown, i) => {
      if (it === null || typeof it !== "object") throw bad(`instances.${i}`, "object", "must be {url, gpu_index}");
      for (const k of Object.keys(it))
        if (!["url", "gpu_index", "output_dir"].includes(k))
          throw bad(`instances.${i}.${k}`, "known key", "is not a setting (known: url, gpu_index, output_dir)");
      const o = it as Record<string, unknown>;
      const url = httpUrl(o.url, `instances.${i}.url`);
      if (!Number.isInteger(o.gpu_index) || (o.gpu_index as number) < 0)
        throw bad(`instances.${i}.gpu_index`, "integer >= 0", `must be the GPU index this server uses, got ${JSON.stringify(o.gpu_index)}`);
      const gpu_index = o.gpu_index as number;
      if (instances.some((x) => x.gpu_index === gpu_index))
        throw bad(`instances.${i}.gpu_index`, "unique", `GPU ${gpu_index} already has an instance (one ComfyUI per GPU)`);
      const output_dir = absDir(o.output_dir, `instances.${i}.output_dir`);
      instances.push(output_dir ? { url, gpu_index, output_dir } : { url, gpu_index });
    });
  }
  const supervise = c.supervise === undefined || c.supervise === null ? undefined : parseSupervise(c.supervise);
  if (supervise && instances.length > 0)
    throw bad("supervise", "exclusive", "and instances are exclusive: attach to running servers or supervise them, not both");
  return {
    instances,
    supervise,
    request_timeout_ms: int(c, "request_timeout_ms", 30_000, 100, 600_000),
    job_timeout_s: int(c, "job_timeout_s", 1800, 1, 86_400),
    discovery_interval_ms: int(c, "discovery_interval_ms", 30_000, 100, 86_400_000),
    health_interval_ms: int(c, "health_interval_ms", 2000, 50, 600_000),
  };
}
