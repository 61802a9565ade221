/**
 * The dashboard hub of one API process: it asks the farm a handful of questions per tick
 * (status, running jobs, oldest pending job per type, recent jobs) and listens to the job
 * events this process already receives for `/ws/{job_id}` (progress arrives between polls
 * from there). Every open dashboard is served from the same snapshot, so N dashboards cost
 * N small frames per tick, not N times the questions. The hub polls only while at least one
 * dashboard is open.
 */
import type { FarmClient } from "../farm-client.ts";
import { TERMINAL_STATUSES, type JobEvent, type JobRecord, type JobStatus } from "../../core/job.ts";
import type { Clock } from "../../core/clock.ts";
import type { Logger } from "../../core/logger.ts";
import type { GalleryItem, NodeRow, QueueRow, RunningRow, Totals } from "./protocol.ts";
import { mergeRecent, nodeRow, outputsOf, recentRow, runningRow, totalsOf } from "./rows.ts";

/** Whose jobs a dashboard may see: every job (admin), one key's, or the unowned ones (anonymous). */
export type OwnerScope = { all: true } | { all: false; owner: string | null };

export const scopeKey = (s: OwnerScope) => (s.all ? "*" : s.owner === null ? "-" : `o:${s.owner}`);

export function visibleTo(s: OwnerScope, owner: string | undefined): boolean {
  if (s.all) return true;
  return s.owner === null ? !owner : owner === s.owner;
}

export interface RunningJob {
  id: string;
  type: string;
  node: string;
  gpu: number | null;
  attempts: number;
  owner: string | undefined;
}

/** What every dashboard is built from, refreshed once per tick. */
export interface Snapshot {
  at: number;
  nodes: NodeRow[];
  queue: QueueRow[];
  totals: Totals;
  /** Every running job (admin view), in start order, with owner for filtering. */
  running: RunningJob[];
  /** Job records of running jobs (progress, start time), as far as one list call returned them. */
  runningRecords: Map<string, JobRecord>;
  problem: string | null;
}

export interface RecentView {
  rows: ReturnType<typeof recentRow>[];
  gallery: GalleryItem[];
}

export interface FeedOptions {
  tickMs?: number;
  /** Recently finished jobs kept per scope (the list's length). */
  recentLimit?: number;
  /** Refresh recent jobs at least this often even without end events (jobs purged, etc.). */
  recentMaxAgeMs?: number;
}

const ENDED: JobStatus[] = [...TERMINAL_STATUSES];

export class FarmFeed {
  readonly tickMs: number;
  private readonly recentLimit: number;
  private readonly recentMaxAgeMs: number;
  private readonly listeners = new Set<(s: Snapshot) => void>();
  /** Latest progress per running job, from events (newer than any poll). */
  private readonly live = new Map<string, { progress: number; message: string }>();
  private readonly recent = new Map<string, { view: RecentView; at: number; dirty: boolean }>();
  private unsubscribe: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private snapshot: Snapshot | null = null;
  private polling: Promise<void> | null = null;
  /** Bumped by start and stop: a poll loop of an earlier start ends instead of running twice. */
  private generation = 0;

  constructor(
    private readonly farm: FarmClient,
    private readonly clock: Clock,
    private readonly log: Logger,
    opts: FeedOptions = {},
  ) {
    this.tickMs = opts.tickMs ?? 1000;
    this.recentLimit = opts.recentLimit ?? 100;
    this.recentMaxAgeMs = opts.recentMaxAgeMs ?? 10_000;
  }

  /** Called after each poll with the new snapshot. Returns the unsubscribe function. */
  subscribe(fn: (s: Snapshot) => void): () => void {
    this.listeners.add(fn);
    if (this.listeners.size === 1) this.start();
    return () => {
      this.listeners.delete(fn);
      if (this.listeners.size === 0) this.stop();
    };
  }

  /** The latest snapshot, polling once first if there is none yet (a new dashboard's first frame). */
  async current(): Promise<Snapshot> {
    if (!this.snapshot) await this.pollOnce();
    return this.snapshot!;
  }

  liveProgress(id: string): { progress: number; message: string } | undefined {
    return this.live.get(id);
  }

  runningRows(s: Snapshot, scope: OwnerScope): RunningRow[] {
    const rows: RunningRow[] = [];
    for (const j of s.running) if (visibleTo(scope, j.owner)) rows.push(runningRow(j, this.live.get(j.id), s.runningRecords.get(j.id)));
    return rows;
  }

  /** Recently finished jobs (and the outputs gallery) a scope may see; refreshed when jobs end. */
  async recentFor(scope: OwnerScope): Promise<RecentView> {
    const key = scopeKey(scope);
    const now = this.clock.now();
    const have = this.recent.get(key);
    if (have && !have.dirty && now - have.at < this.recentMaxAgeMs) return have.view;
    const owner = scope.all ? {} : { owner: scope.owner };
    try {
      const lists = await Promise.all(ENDED.map((status) => this.farm.list({ status, limit: this.recentLimit, offset: 0, ...owner })));
      const jobs = mergeRecent(
        lists.map((l) => l.jobs),
        this.recentLimit,
      );
      const gallery: GalleryItem[] = [];
      for (const j of jobs) {
        if (gallery.length >= 24) break;
        if (j.status === "completed") gallery.push(...outputsOf(j, 24 - gallery.length));
      }
      const view = { rows: jobs.map(recentRow), gallery };
      this.recent.set(key, { view, at: now, dirty: false });
      return view;
    } catch (err) {
      this.log.warn("dashboard: listing recent jobs failed", { err: String(err) });
      return have?.view ?? { rows: [], gallery: [] };
    }
  }

  private onEvent = (e: JobEvent): void => {
    if (e.type === "progress") this.live.set(e.job_id, { progress: e.progress, message: e.message ?? this.live.get(e.job_id)?.message ?? "" });
    else if (e.type === "completed" || e.type === "error") {
      this.live.delete(e.job_id);
      for (const r of this.recent.values()) r.dirty = true;
    }
  };

  private start(): void {
    this.unsubscribe = this.farm.events.onAny(this.onEvent);
    const gen = ++this.generation;
    const loop = () => {
      this.timer = setTimeout(() => {
        void this.pollOnce().then(() => {
          if (gen !== this.generation) return;
          if (this.snapshot) for (const fn of [...this.listeners]) fn(this.snapshot);
          loop();
        });
      }, this.tickMs);
      this.timer.unref();
    };
    loop();
  }

  private stop(): void {
    this.generation++;
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.snapshot = null;
    this.live.clear();
    this.recent.clear();
  }

  private pollOnce(): Promise<void> {
    this.polling ??= this.poll().finally(() => {
      this.polling = null;
    });
    return this.polling;
  }

  private async poll(): Promise<void> {
    const now = this.clock.now();
    try {
      const [status, runningList] = await Promise.all([this.farm.status(), this.farm.list({ status: "running", limit: 500, offset: 0 })]);
      const nodes = (Array.isArray(status.nodes) ? (status.nodes as Record<string, unknown>[]) : []).map(nodeRow);
      nodes.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      const records = new Map(runningList.jobs.map((j) => [j.id, j]));
      const running: RunningJob[] = (Array.isArray(status.running) ? (status.running as Record<string, unknown>[]) : []).map((r) => {
        const id = String(r.job_id);
        return {
          id,
          type: String(r.type),
          node: String(r.node_id),
          gpu: typeof r.gpu_index === "number" ? r.gpu_index : null,
          attempts: Number(r.attempts ?? 0),
          owner: records.get(id)?.owner,
        };
      });
      // Ids the event map holds for jobs no longer running (missed ends, restarts) go.
      const ids = new Set(running.map((r) => r.id));
      for (const id of this.live.keys()) if (!ids.has(id)) this.live.delete(id);
      const queue = await this.queueRows((status.queue ?? {}) as Record<string, number>);
      const totals = totalsOf(nodes, running.length, queue, (status.counts ?? {}) as Record<string, unknown>);
      this.snapshot = { at: now, nodes, queue, totals, running, runningRecords: records, problem: null };
    } catch (err) {
      const problem = `the farm did not answer: ${err instanceof Error ? err.message : String(err)}`;
      this.log.warn("dashboard: polling the farm failed", { err: problem });
      this.snapshot = this.snapshot
        ? { ...this.snapshot, problem }
        : { at: now, nodes: [], queue: [], totals: totalsOf([], 0, [], {}), running: [], runningRecords: new Map(), problem };
    }
  }

  /** Depth per job type, and when the oldest pending job of each was submitted (one indexed lookup per type). */
  private async queueRows(depths: Record<string, number>): Promise<QueueRow[]> {
    const types = Object.entries(depths)
      .filter(([, n]) => n > 0)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return Promise.all(
      types.map(async ([type, n]): Promise<QueueRow> => {
        // Lists are newest first: the oldest pending job is the last one.
        const page = await this.farm.list({ status: "pending", type, limit: 1, offset: Math.max(0, n - 1) });
        const oldest = page.jobs[0];
        return [type, n, oldest?.created_at ?? 0];
      }),
    );
  }
}
