/** Shared fixtures for the agent unit tests: a recording reporter and an Agent on diag + simulated GPUs. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Agent } from "../../node-agent/agent.ts";
import { preparePlugins, type PluginCandidate } from "../../node-agent/plugin-loader.ts";
import { resolveGpuProbe } from "../../node-agent/gpu-probe.ts";
import diag from "../../plugins/diag/index.ts";
import { buildConfig } from "../../core/config/load.ts";
import { FsArtifactStore } from "../../core/artifacts/fs-store.ts";
import type { AgentReporter, DispatchTask } from "../../core/mesh-contract.ts";
import type { SerializedError } from "../../core/errors.ts";
import type { NodeReport } from "../../core/telemetry.ts";
import type { Plugin } from "../../core/plugin-contract.ts";

/** True while a process with this pid exists (and is not a zombie we already reaped). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export type Report =
  | { kind: "progress"; job_id: string; token: number; progress: number; message?: string }
  | { kind: "completed"; job_id: string; token: number; result: Record<string, unknown>; message?: string }
  | { kind: "failed"; job_id: string; token: number; error: SerializedError; retryable: boolean };

export class RecordingReporter implements AgentReporter {
  readonly reports: Report[] = [];
  readonly heartbeats: (NodeReport & { leases: { job_id: string; token: number }[] })[] = [];
  private waiters: { pred: (r: Report) => boolean; resolve: (r: Report) => void }[] = [];

  private push(r: Report): void {
    this.reports.push(r);
    this.waiters = this.waiters.filter((w) => (w.pred(r) ? (w.resolve(r), false) : true));
  }
  async progress(r: { job_id: string; token: number; progress: number; message?: string }) {
    this.push({ kind: "progress", job_id: r.job_id, token: r.token, progress: r.progress, message: r.message });
  }
  async completed(r: { job_id: string; token: number; result: Record<string, unknown>; message?: string }) {
    this.push({ kind: "completed", job_id: r.job_id, token: r.token, result: r.result, ...(r.message !== undefined ? { message: r.message } : {}) });
  }
  async failed(r: { job_id: string; token: number; error: SerializedError; retryable: boolean }) {
    this.push({ kind: "failed", job_id: r.job_id, token: r.token, error: r.error, retryable: r.retryable });
  }
  async heartbeat(r: NodeReport & { leases: { job_id: string; token: number }[] }) {
    this.heartbeats.push(r);
  }
  /** The first report (already received or future) matching `pred`. */
  waitFor(pred: (r: Report) => boolean, timeoutMs = 20000): Promise<Report> {
    const hit = this.reports.find(pred);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no matching report within ${timeoutMs} ms; got ${JSON.stringify(this.reports)}`)), timeoutMs);
      this.waiters.push({ pred, resolve: (r) => (clearTimeout(t), resolve(r)) });
    });
  }
  /** The job's final report (completed or failed). */
  outcome(jobId: string): Promise<Report> {
    return this.waitFor((r) => r.job_id === jobId && r.kind !== "progress");
  }
}

export interface Harness {
  agent: Agent;
  reporter: RecordingReporter;
  workDir: string;
  base: string;
  cleanup(): Promise<void>;
}

let seq = 0;
export function task(type: string, params: Record<string, unknown> = {}, extra: Partial<DispatchTask> = {}): DispatchTask {
  seq++;
  return { job_id: `job-${process.pid}-${seq}`, type, params, gpu_index: null, attempt: 1, token: 100 + seq, lease_ms: 30000, ...extra };
}

/**
 * An Agent running the real diag plugin on one simulated 24 GB GPU. `childPids`, when
 * given, collects the pids of child processes diag registers through ctx.trackChild.
 */
export async function makeAgent(opts: { agent?: Record<string, unknown>; extraPlugins?: PluginCandidate[]; childPids?: number[] } = {}): Promise<Harness> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "nb-agent-"));
  const workDir = path.join(base, "work");
  const config = buildConfig({
    paths: { data_dir: base },
    agent: {
      gpu_probe: "simulated",
      simulated_gpus: [{ name: "Sim 24GB", vram_mb: 24576 }],
      cancel_grace_ms: 300,
      telemetry_interval_ms: 100,
      max_concurrent_jobs: 4,
      work_dir: workDir,
      ...opts.agent,
    },
  });
  const pids = opts.childPids;
  const diagPlugin: Plugin = !pids
    ? diag
    : {
        ...diag,
        run: (t, ctx) =>
          diag.run(t, {
            ...ctx,
            trackChild: (c) => {
              if (c.pid !== undefined) pids.push(c.pid);
              ctx.trackChild(c);
            },
          }),
      };
  const plugins = await preparePlugins([{ name: "diag", plugin: diagPlugin }, ...(opts.extraPlugins ?? [])], {
    modelsDir: config.paths.models,
    pluginConfig: config.plugins,
  });
  const reporter = new RecordingReporter();
  const agent = new Agent({
    nodeId: "node-test",
    config,
    plugins,
    probe: resolveGpuProbe(config.agent),
    artifacts: new FsArtifactStore(path.join(base, "artifacts")),
    reporter,
  });
  await agent.start();
  return {
    agent,
    reporter,
    workDir,
    base,
    cleanup: async () => {
      await agent.stop();
      fs.rmSync(base, { recursive: true, force: true });
    },
  };
}
