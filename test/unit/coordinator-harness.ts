/** A Coordinator over a real embedded store, a fake Dispatcher and a ManualClock. */
import fs from "node:fs";
import { afterAll } from "vitest";
import os from "node:os";
import path from "node:path";
import { ManualClock } from "../../core/clock.ts";
import type { JobEvent } from "../../core/job.ts";
import { silentLogger } from "../../core/logger.ts";
import type { DispatchTask, Dispatcher } from "../../core/mesh-contract.ts";
import { Coordinator, type CoordinatorDeps, type HeartbeatReport } from "../../coordinator/coordinator.ts";
import { EmbeddedJobStore } from "../../coordinator/stores/embedded-store.ts";
import type { JobStore } from "../../coordinator/job-store.ts";
import { report, type NodeSpec } from "./coordinator-fixtures.ts";

export class FakeDispatcher implements Dispatcher {
  started: { node: string; task: DispatchTask }[] = [];
  cancelled: { node: string; job: string; token: number }[] = [];
  /** node ids whose startTask rejects */
  refuse = new Set<string>();
  async startTask(nodeId: string, task: DispatchTask): Promise<void> {
    if (this.refuse.has(nodeId)) throw new Error(`node ${nodeId} unreachable`);
    this.started.push({ node: nodeId, task });
  }
  async cancelTask(nodeId: string, jobId: string, token: number): Promise<void> {
    this.cancelled.push({ node: nodeId, job: jobId, token });
  }
  /** The last task started for a job. */
  last(jobId: string): { node: string; task: DispatchTask } {
    const t = this.started.filter((s) => s.task.job_id === jobId).at(-1);
    if (!t) throw new Error(`job ${jobId} was never dispatched`);
    return t;
  }
}

export interface Harness {
  coord: Coordinator;
  store: JobStore;
  clock: ManualClock;
  dispatcher: FakeDispatcher;
  events: JobEvent[];
  dir: string;
  /** Let the dispatch loop and unawaited promises settle. */
  settle(): Promise<void>;
  heartbeat(spec: NodeSpec, leases?: HeartbeatReport["leases"]): Promise<void>;
  /** Stop the coordinator and close the store (keeps the directory). */
  shutdown(): Promise<void>;
}

export const CONFIG: CoordinatorDeps["config"] = { lease_ms: 10_000, max_attempts: 3, blocklist_threshold: 2, sweep_interval_ms: 3_600_000 };

/** `store` replaces the embedded store (e.g. a RedisJobStore); `dir` reopens an embedded store's folder. */
export async function harness(
  opts: {
    dir?: string;
    store?: JobStore;
    config?: Partial<CoordinatorDeps["config"]>;
    clock?: ManualClock;
    queuePolicy?: CoordinatorDeps["queuePolicy"];
    leaderEpoch?: number;
  } = {},
): Promise<Harness> {
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), "nb-coord-"));
  const store = opts.store ?? (await EmbeddedJobStore.open({ dir }));
  const clock = opts.clock ?? new ManualClock();
  const dispatcher = new FakeDispatcher();
  const events: JobEvent[] = [];
  const coord = new Coordinator({
    store,
    clock,
    config: { ...CONFIG, ...opts.config },
    dispatcher,
    publish: (e) => events.push(e),
    logger: silentLogger,
    ...(opts.queuePolicy ? { queuePolicy: opts.queuePolicy } : {}),
    ...(opts.leaderEpoch !== undefined ? { leaderEpoch: opts.leaderEpoch } : {}),
  });
  await coord.start();
  const settle = async () => {
    for (let i = 0; i < 5; i++) {
      await coord.idle();
      await new Promise((r) => setImmediate(r));
    }
  };
  return {
    coord,
    store,
    clock,
    dispatcher,
    events,
    dir,
    settle,
    heartbeat: async (spec, leases = []) => {
      await coord.nodeHeartbeat({ ...report(spec), leases });
      await settle();
    },
    shutdown: async () => {
      await coord.stop();
      await store.close();
    },
  };
}

/**
 * `harness` for a test file: every harness it makes is shut down and its folder removed
 * after the file's tests.
 */
export function harnessPerFile(): (...args: Parameters<typeof harness>) => Promise<Harness> {
  const open: Harness[] = [];
  afterAll(async () => {
    for (const x of open) {
      await x.shutdown().catch(() => {});
      fs.rmSync(x.dir, { recursive: true, force: true });
    }
  });
  return async (...args) => {
    const x = await harness(...args);
    open.push(x);
    return x;
  };
}
