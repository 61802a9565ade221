/**
 * The embedded-mode JobStore: in-process maps (embedded-indexes.ts) made durable by an
 * append-only journal (embedded-journal.ts: JSON lines, replayed at start, compacted into
 * a snapshot when it grows; its header says what a crash can lose and why).
 *
 * A new job is journaled as its full record; a later change as just what changed (the
 * set fields, the removed ones, the history entry appended), applied in order on replay.
 * The snapshot holds full records, and a change line whose job is missing (compacted
 * away, purged) is skipped, so a crash between snapshot and truncate is harmless.
 *
 * Records are deeply frozen and handed out as they are (no copy per read): a record is a
 * snapshot that never changes; a transition makes a new one, sharing the unchanged parts.
 * A new job is frozen where it stands rather than copied: the coordinator built it and
 * hands it over (a later attempt to change it throws), so the journal line and the record
 * always agree. Object values of a change (a plugin's result, an error) are copied
 * through the journal line, since in embedded mode they are the plugin's own objects.
 */
import { isTerminal, type JobRecord, type JobStatus } from "../../core/job.ts";
import type { JobCounts, JobListFilter, JobListPage, JobPatch, JobStore, NodeFailureCount, StoredDecision, TransitionOptions } from "../job-store.ts";
import { Journal, type ChangeLine, type Line } from "./embedded-journal.ts";
import { applyChange, deepFreeze, JobIndexes } from "./embedded-indexes.ts";
import { patchChange, type RecordChange } from "./record-patch.ts";

export interface EmbeddedStoreOptions {
  /** Folder for `jobs.snapshot.jsonl` and `jobs.journal.jsonl` (created if missing). */
  dir: string;
  /** Compact once the journal holds this many lines more than there are live records. Default 50,000. */
  compactAfterLines?: number;
}

const failKey = (node: string, type: string) => `${node}\u0000${type}`;

export class EmbeddedJobStore implements JobStore {
  private readonly jobs = new JobIndexes();
  private readonly failures = new Map<string, NodeFailureCount>();
  private readonly decisions = new Map<string, StoredDecision>();
  private readonly journal: Journal;

  /** Opens (and replays) the store synchronously; use `EmbeddedJobStore.open` in async code. */
  constructor(opts: EmbeddedStoreOptions) {
    this.journal = new Journal(opts.dir, opts.compactAfterLines ?? 50_000, {
      liveRecords: () => this.jobs.size,
      snapshot: () => this.snapshot(),
    });
    this.journal.open((l) => this.replayLine(l));
  }

  static async open(opts: EmbeddedStoreOptions): Promise<EmbeddedJobStore> {
    return new EmbeddedJobStore(opts);
  }

  async create(job: JobRecord): Promise<{ job: JobRecord; created: boolean }> {
    this.assertOpen();
    if (job.idempotency_key !== undefined) {
      const rec = this.jobs.byIdempotencyKey(job.idempotency_key);
      if (rec) return { job: rec, created: false };
    }
    const same = this.jobs.get(job.id);
    if (same) return { job: same, created: false };
    const token = job.lease?.token ?? 0; // created running: its first lease's token
    this.journal.append(`{"s":${token},"j":${JSON.stringify(job)}}`);
    const rec = deepFreeze(job);
    this.jobs.apply(rec, token);
    return { job: rec, created: true };
  }

  async get(id: string): Promise<JobRecord | null> {
    return this.jobs.get(id) ?? null;
  }

  async findByIdempotencyKey(key: string): Promise<JobRecord | null> {
    return this.jobs.byIdempotencyKey(key) ?? null;
  }

  async list(filter: JobListFilter): Promise<JobListPage> {
    return this.jobs.list(filter);
  }

  async transition(id: string, from: readonly JobStatus[], patch: JobPatch, opts: TransitionOptions = {}): Promise<JobRecord | null> {
    this.assertOpen();
    const cur = this.jobs.get(id);
    if (!cur || !from.includes(cur.status)) return null;
    if (opts.leaseToken !== undefined && cur.lease?.token !== opts.leaseToken) return null;
    let token = this.jobs.token(id);
    const c = patchChange(cur, patch, opts, () => ++token);
    return this.change(id, cur, c, token);
  }

  async updateProgress(id: string, token: number, progress: number, message: string | undefined, at: number): Promise<boolean> {
    const cur = this.jobs.get(id);
    if (!cur || cur.status !== "running" || cur.lease?.token !== token) return false;
    const set: Partial<JobRecord> = { progress, updated_at: at };
    if (message !== undefined) set.message = message;
    this.change(id, cur, { set, removed: [] }, this.jobs.token(id));
    return true;
  }

  async renewLease(id: string, token: number, expires_at: number): Promise<boolean> {
    const cur = this.jobs.get(id);
    if (!cur || cur.status !== "running" || !cur.lease || cur.lease.token !== token) return false;
    this.change(id, cur, { set: { lease: { ...cur.lease, expires_at } }, removed: [] }, this.jobs.token(id));
    return true;
  }

  async pending(limit = Number.MAX_SAFE_INTEGER): Promise<JobRecord[]> {
    return this.jobs.pending().slice(0, limit);
  }

  async running(): Promise<JobRecord[]> {
    return this.jobs.running();
  }

  async counts(): Promise<JobCounts> {
    return this.jobs.counts();
  }

  async recordNodeFailure(nodeId: string, type: string, reason: string, at: number): Promise<number> {
    this.assertOpen();
    const prev = this.failures.get(failKey(nodeId, type));
    const f: NodeFailureCount = { node_id: nodeId, type, count: (prev?.count ?? 0) + 1, last_reason: reason, at };
    this.failures.set(failKey(nodeId, type), f);
    this.write({ f });
    return f.count;
  }

  async nodeFailures(): Promise<NodeFailureCount[]> {
    return [...this.failures.values()].map((f) => ({ ...f }));
  }

  async clearNodeFailures(nodeId: string, type?: string): Promise<void> {
    this.assertOpen();
    this.clearFailures(nodeId, type ?? null);
    this.write({ fc: [nodeId, type ?? null] });
  }

  async saveDecision(decision: StoredDecision): Promise<void> {
    this.assertOpen();
    this.journal.append(JSON.stringify({ d: decision }));
    const d = deepFreeze(decision);
    this.decisions.set(d.job_id, d);
  }

  async getDecision(jobId: string): Promise<StoredDecision | null> {
    return this.decisions.get(jobId) ?? null;
  }

  async purge(before: number): Promise<number> {
    this.assertOpen();
    let n = 0;
    for (const j of [...this.jobs.values()]) {
      if (j.created_at >= before || !isTerminal(j.status)) continue;
      this.remove(j.id);
      this.write({ x: j.id });
      n++;
    }
    return n;
  }

  async close(): Promise<void> {
    this.journal.close();
  }

  /** Write a snapshot of the whole state and truncate the journal. Runs by itself when the journal grows. */
  compact(): void {
    this.journal.compact();
  }

  // --- internals -------------------------------------------------------------

  private assertOpen(): void {
    if (this.journal.isClosed) throw new Error("EmbeddedJobStore is closed");
  }

  private *snapshot(): Iterable<Line> {
    for (const j of this.jobs.values()) yield { j, s: this.jobs.token(j.id) };
    for (const f of this.failures.values()) yield { f };
    for (const d of this.decisions.values()) yield { d };
  }

  /** Journal a change to `cur` and install the new record (unchanged parts shared with `cur`, all frozen). */
  private change(id: string, cur: JobRecord, c: RecordChange, token: number): JobRecord {
    const line: ChangeLine = { u: id, s: token, p: c.set };
    if (c.removed.length > 0) line.d = c.removed;
    if (c.history) line.h = c.history;
    const json = JSON.stringify(line);
    this.journal.append(json);
    const owned = Object.values(c.set).some((v) => v !== null && typeof v === "object") ? (JSON.parse(json) as ChangeLine) : line;
    const next = applyChange(cur, owned);
    this.jobs.apply(next, token);
    return next;
  }

  private remove(id: string): void {
    if (this.jobs.remove(id)) this.decisions.delete(id);
  }

  private clearFailures(nodeId: string, type: string | null): void {
    if (type !== null) {
      this.failures.delete(failKey(nodeId, type));
      return;
    }
    for (const [k, f] of this.failures) if (f.node_id === nodeId) this.failures.delete(k);
  }

  private write(l: Line): void {
    this.journal.append(JSON.stringify(l));
  }

  /** One line of the snapshot or the journal, at start. */
  private replayLine(l: Line): void {
    if ("j" in l) this.jobs.apply(deepFreeze(l.j), l.s);
    else if ("u" in l) {
      const cur = this.jobs.get(l.u);
      if (cur) this.jobs.apply(applyChange(cur, l), l.s); // missing: compacted or purged since
    } else if ("f" in l) this.failures.set(failKey(l.f.node_id, l.f.type), l.f);
    else if ("fc" in l) this.clearFailures(l.fc[0], l.fc[1]);
    else if ("d" in l) this.decisions.set(l.d.job_id, deepFreeze(l.d));
    else if ("x" in l) this.remove(l.x);
  }
}
