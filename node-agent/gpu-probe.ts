/**
 * GPU probes: how an agent learns which GPUs it has and how busy they are.
 *
 * A registry in the Moleculer style: `resolveGpuProbe(config.agent)` picks an
 * implementation by name. Probes never throw: a broken driver is logged and reported
 * as "no GPUs", so a flaky nvidia-smi cannot take the agent (and its CPU work) down.
 *
 * - `nvidia-smi`: spawns nvidia-smi, parses its CSV (see nvidia-smi-parse.ts).
 * - `none`: CPU-only node, always [].
 * - `simulated`: GPUs declared in config (`agent.simulated_gpus`) for tests and capacity
 *   drills; their used memory is the VRAM held by models the model manager has resident.
 * - `auto` (default): nvidia-smi when the binary is on PATH, else none.
 * Simulated GPUs, when configured, are appended after the real ones in every mode,
 * with indices continuing after the last real GPU.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { GpuInfo } from "../core/telemetry.ts";
import type { Logger } from "../core/logger.ts";
import { silentLogger } from "../core/logger.ts";
import { NVIDIA_SMI_ARGS, parseNvidiaSmi } from "./nvidia-smi-parse.ts";

export interface GpuProbe {
  /** Short name for logs and `farmctl` ("nvidia-smi", "none", "simulated", "nvidia-smi+simulated"). */
  readonly kind: string;
  /** The node's GPUs now. Never rejects: failures are logged and yield []. */
  probe(): Promise<GpuInfo[]>;
  /**
   * Simulated GPUs have no driver to ask how much memory is used; the agent binds this
   * to the model manager so used memory = VRAM of resident models on that GPU index.
   * Real probes ignore it.
   */
  attachUsage?(usedMb: (gpuIndex: number) => number): void;
}

/** Runs nvidia-smi; injectable so tests can feed captured output or failures. */
export type SmiRunner = (bin: string, args: string[], timeoutMs: number) => Promise<string>;

const defaultRunner: SmiRunner = (bin, args, timeoutMs) =>
  new Promise((resolve, reject) => {
    execFile(bin, args, { timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: 1 << 20 }, (err, stdout) => {
      if (err) reject(err);
      else resolve(stdout);
    });
  });

export class NvidiaSmiProbe implements GpuProbe {
  readonly kind = "nvidia-smi";
  private readonly bin: string;
  private readonly timeoutMs: number;
  private readonly run: SmiRunner;
  private readonly logger: Logger;
  private failing = false;

  constructor(opts: { bin?: string; timeoutMs?: number; runner?: SmiRunner; logger?: Logger } = {}) {
    this.bin = opts.bin ?? "nvidia-smi";
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.run = opts.runner ?? defaultRunner;
    this.logger = opts.logger ?? silentLogger;
  }

  async probe(): Promise<GpuInfo[]> {
    try {
      const out = await this.run(this.bin, NVIDIA_SMI_ARGS, this.timeoutMs);
      const { gpus, skipped } = parseNvidiaSmi(out);
      if (skipped.length > 0) this.logger.warn("nvidia-smi: skipped unparseable lines", { lines: skipped });
      if (this.failing) this.logger.info("nvidia-smi: recovered", { gpus: gpus.length });
      this.failing = false;
      return gpus;
    } catch (err) {
      // Log once per failure streak: telemetry runs every few seconds.
      if (!this.failing) {
        this.logger.error("nvidia-smi failed; reporting no GPUs", { error: err instanceof Error ? err.message : String(err) });
      }
      this.failing = true;
      return [];
    }
  }
}

export class NoGpuProbe implements GpuProbe {
  readonly kind = "none";
  async probe(): Promise<GpuInfo[]> {
    return [];
  }
}

export interface SimulatedGpuSpec {
  name: string;
  vram_mb: number;
}

export class SimulatedGpuProbe implements GpuProbe {
  readonly kind = "simulated";
  private usedMb: (gpuIndex: number) => number = () => 0;

  /** @param firstIndex index of the first simulated GPU (after any real ones). */
  constructor(
    private readonly specs: readonly SimulatedGpuSpec[],
    private firstIndex = 0,
  ) {}

  attachUsage(usedMb: (gpuIndex: number) => number): void {
    this.usedMb = usedMb;
  }

  setFirstIndex(i: number): void {
    this.firstIndex = i;
  }

  async probe(): Promise<GpuInfo[]> {
    return this.specs.map((s, i) => {
      const index = this.firstIndex + i;
      return {
        index,
        uuid: `SIM-${index}`,
        name: s.name,
        memory_total_mb: s.vram_mb,
        memory_used_mb: Math.min(s.vram_mb, Math.max(0, this.usedMb(index))),
        utilization_pct: null,
        temperature_c: null,
        simulated: true,
      };
    });
  }
}

/** Real GPUs first, then simulated ones numbered after them. */
export class CompositeGpuProbe implements GpuProbe {
  readonly kind: string;
  constructor(
    private readonly real: GpuProbe,
    private readonly sim: SimulatedGpuProbe,
  ) {
    this.kind = `${real.kind}+simulated`;
  }
  attachUsage(usedMb: (gpuIndex: number) => number): void {
    this.sim.attachUsage(usedMb);
  }
  async probe(): Promise<GpuInfo[]> {
    const real = await this.real.probe();
    this.sim.setFirstIndex(real.reduce((m, g) => Math.max(m, g.index + 1), 0));
    return [...real, ...(await this.sim.probe())];
  }
}

/** True when an executable named `bin` is on PATH (or `bin` is a path to one). */
export function binaryExists(bin: string, envPath = process.env.PATH ?? ""): boolean {
  const candidates = bin.includes("/")
    ? [bin]
    : envPath
        .split(path.delimiter)
        .filter(Boolean)
        .map((d) => path.join(d, bin));
  return candidates.some((c) => {
    try {
      fs.accessSync(c, fs.constants.X_OK);
      return fs.statSync(c).isFile();
    } catch {
      return false;
    }
  });
}

export interface ResolveProbeOptions {
  logger?: Logger;
  /** Override for tests. */
  runner?: SmiRunner;
  /** Override for tests: does nvidia-smi exist? */
  hasNvidiaSmi?: () => boolean;
}

/** Pick the probe named by `agent.gpu_probe`, adding `agent.simulated_gpus` when configured. */
export function resolveGpuProbe(
  agent: { gpu_probe: "auto" | "nvidia-smi" | "none" | "simulated"; simulated_gpus: readonly SimulatedGpuSpec[] },
  opts: ResolveProbeOptions = {},
): GpuProbe {
  const logger = opts.logger ?? silentLogger;
  const smi = () => new NvidiaSmiProbe({ logger, runner: opts.runner });
  let base: GpuProbe | null;
  switch (agent.gpu_probe) {
    case "nvidia-smi":
      base = smi();
      break;
    case "none":
      base = new NoGpuProbe();
      break;
    case "simulated":
      base = null;
      if (agent.simulated_gpus.length === 0) logger.warn("agent.gpu_probe is 'simulated' but agent.simulated_gpus is empty: no GPUs");
      break;
    case "auto":
    default:
      base = (opts.hasNvidiaSmi ?? (() => binaryExists("nvidia-smi")))() ? smi() : new NoGpuProbe();
  }
  if (agent.simulated_gpus.length === 0) return base ?? new NoGpuProbe();
  const sim = new SimulatedGpuProbe(agent.simulated_gpus);
  return base === null || base.kind === "none" ? sim : new CompositeGpuProbe(base, sim);
}
