/** Builds a real TaskContext for plugin tests (no agent, no mesh). */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { TaskContext } from "../../core/plugin-contract.ts";
import type { ArtifactStore } from "../../core/artifact-store.ts";
import type { GpuInfo } from "../../core/telemetry.ts";
import { FsArtifactStore } from "../../core/artifacts/fs-store.ts";
import { silentLogger } from "../../core/logger.ts";

export interface TestTaskContext extends TaskContext {
  progressLog: { pct: number; message?: string }[];
  abort(): void;
  cleanup(): void;
}

export function makeTaskContext(
  opts: { artifacts?: ArtifactStore; gpus?: GpuInfo[]; config?: Record<string, unknown>; modelsDir?: string; model?: unknown } = {},
): TestTaskContext {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "nb-task-"));
  const workDir = path.join(base, "work");
  fs.mkdirSync(workDir);
  const artifacts = opts.artifacts ?? new FsArtifactStore(path.join(base, "artifacts"));
  const ac = new AbortController();
  const progressLog: { pct: number; message?: string }[] = [];
  const children: { kill(s?: NodeJS.Signals | number): boolean }[] = [];
  ac.signal.addEventListener("abort", () => children.forEach((c) => c.kill("SIGKILL")));
  return {
    progressLog,
    progress: (pct, message) => progressLog.push({ pct, message }),
    signal: ac.signal,
    abort: () => ac.abort(),
    artifacts,
    logger: silentLogger,
    workDir,
    model: opts.model,
    gpus: opts.gpus ?? [],
    modelsDir: opts.modelsDir ?? path.join(base, "models"),
    config: opts.config ?? {},
    trackChild: (c) => void children.push(c),
    cleanup: () => fs.rmSync(base, { recursive: true, force: true }),
  };
}
