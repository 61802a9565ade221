/**
 * The embedded-mode JobStore: in-process maps made durable by an append-only journal
 * (JSON lines) that is replayed at start and compacted into a snapshot when it grows.
 *
 * Durability choice: journal lines are buffered and written with one `write` per event
 * loop turn (setImmediate), without fsync. A process crash loses at most the writes of
 * the current turn; a power loss may lose what the OS had not flushed yet. An fsync per
 * write would cap the farm at a few hundred jobs/s on ordinary disks; embedded mode is the
 * single-workstation farm where that trade is the right one. `close()` writes everything
 * synchronously, and compaction fsyncs the snapshot before the journal is truncated.
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
import fs from "node:fs";
import path from "node:path";
import type { JobHistoryEntry, JobRecord, JobStatus } from "../../core/job.ts";
import type {
  JobCounts,
  JobListFilter,
  JobListPage,
  JobPatch,
  JobStore,
  NodeFailureCount,
  StoredDecision,
  TransitionOptions,
} from "../job-store.ts";
import { comparePending, patchChange, type RecordChange } from "./record-patch.ts";

export interface EmbeddedStoreOptions {
  /** Folder for `jobs.snapshot.jsonl` and `jobs.journal.jsonl` (created if missing). */
  dir: string;
  /** Compact once the journal holds this many lines more than there are live records. Default 50,000. */
  compactAfterLines?: number;
}

/** A change to an existing job: set fields, removed fields, appended history entry, token. */
interface ChangeLine { u: string; s: number; p: Partial<JobRecord>; d?: string[]; h?: JobHistoryEntry }

type Line =
  | { j: JobRecord; s: number }
  | ChangeLine
  | { f: NodeFailureCount }
  | { fc: [string, string | null] }
  | { d: StoredDecision }
  | { x: string };

const failKey = (node: string, type: string) => `${node}\u0000${type}`;

export class EmbeddedJobStore implements JobStore {
  private readonly jobs = new Map<string, JobRecord>();
  /** Last fencing token issued per job; survives re-queues (the lease itself is removed). */
  private readonly tokens = new Map<string, number>();
  private readonly idem = new Map<string, string>();
  private readonly pendingIds = new Set<string>();
  private readonly runningIds = new Set<string>();
  private readonly countsByType = new Map<string, Map<JobStatus, number>>();
  /**
   * Owner name -> ids of its jobs, in creation order (Set keeps insertion order, as the
   * `jobs` map does), so an owner-filtered listing walks only that owner's jobs. Jobs
   * without an owner are in `unownedIds`. Rebuilt from the records on replay: the journal
   * format is unchanged.
   */
  private readonly ownerIds = new Map<string, Set<string>>();
  private readonly unownedIds = new Set<string>();
  private readonly failures = new Map<string, NodeFailureCount>();
  private readonly decisions = new Map<string, StoredDecision>();
  private readonly snapshotPath: string;
  private readonly journalPath: string;
  private readonly compactAfter: number;
  private readonly lockPath: string;
  private fd: number;
  private buffer: string[] = [];
  private flushScheduled = false;
  private journalLines = 0;
  private closed = false;

  /** Opens (and replays) the store synchronously; use `EmbeddedJobStore.open` in async code. */
  constructor(opts: EmbeddedStoreOptions) {
    fs.mkdirSync(opts.dir, { recursive: true });
    this.snapshotPath = path.join(opts.dir, "jobs.snapshot.jsonl");
    this.journalPath = path.join(opts.dir, "jobs.journal.jsonl");
    this.compactAfter = opts.compactAfterLines ?? 50_000;
    this.lockPath = path.join(opts.dir, "jobs.lock");
    takeLock(this.lockPath);
    this.replay(this.snapshotPath);
    this.journalLines = this.replay(this.journalPath);
    this.fd = fs.openSync(this.journalPath, "a");
    // A crash can leave a torn last line; end it so the next append starts a fresh line.
    const size = fs.fstatSync(this.fd).size;
    if (size > 0) {
      const last = Buffer.alloc(1);
      const rfd = fs.openSync(this.journalPath, "r");
      fs.readSync(rfd, last, 0, 1, size - 1);
      fs.closeSync(rfd);
      if (last[0] !== 0x0a) fs.writeSync(this.fd, "\n");
    }
  }

  static async open(opts: EmbeddedStoreOptions): Promise<EmbeddedJobStore> {
    return new EmbeddedJobStore(opts);
  }

  async create(job: JobRecord): Promise<{ job: JobRecord; created: boolean }> {
    this.assertOpen();
    if (job.idempotency_key !== undefined) {
      const existing = this.idem.get(job.idempotency_key);
      const rec = existing ? this.jobs.get(existing) : undefined;
      if (rec) return { job: rec, created: false };
    }
    const same = this.jobs.get(job.id);
    if (same) return { job: same, created: false };
    const token = job.lease?.token ?? 0; // created running: its first lease's token
    this.writeRaw(`{"s":${token},"j":${JSON.stringify(job)}}`);
    const rec = deepFreeze(job);
    this.apply(rec, token);
    return { job: rec, created: true };
  }

  async get(id: string): Promise<JobRecord | null> {
    return this.jobs.get(id) ?? null;
  }

  async findByIdempotencyKey(key: string): Promise<JobRecord | null> {
    const id = this.idem.get(key);
    return id ? this.get(id) : null;
  }

  async list(filter: JobListFilter): Promise<JobListPage> {
    // Map/Set iteration order is creation order; walk it backwards for newest first.
    // With an owner filter only that owner's jobs are walked (its index set).
    const all: JobRecord[] = filter.owner === undefined
      ? [...this.jobs.values()]
      : [...(filter.owner === null ? this.unownedIds : this.ownerIds.get(filter.owner) ?? [])].map((id) => this.jobs.get(id)!);
    const jobs: JobRecord[] = [];
    let total = 0;
    for (let i = all.length - 1; i >= 0; i--) {
      const j = all[i]!;
      if (filter.status !== undefined && j.status !== filter.status) continue;
      if (filter.type !== undefined && j.type !== filter.type) continue;
      if (total >= filter.offset && jobs.length < filter.limit) jobs.push(j);
      total++;
    }
    return { jobs, total };
  }

  async transition(id: string, from: readonly JobStatus[], patch: JobPatch, opts: TransitionOptions = {}): Promise<JobRecord | null> {
    this.assertOpen();
    const cur = this.jobs.get(id);
    if (!cur || !from.includes(cur.status)) return null;
    if (opts.leaseToken !== undefined && cur.lease?.token !== opts.leaseToken) return null;
    let token = this.tokens.get(id) ?? 0;
    const c = patchChange(cur, patch, opts, () => ++token);
    return this.change(id, cur, c, token);
  }

  async updateProgress(id: string, token: number, progress: number, message: string | undefined, at: number): Promise<boolean> {
    const cur = this.jobs.get(id);
    if (!cur || cur.status !== "running" || cur.lease?.token !== token) return false;
    const set: Partial<JobRecord> = { progress, updated_at: at };
    if (message !== undefined) set.message = message;
    this.change(id, cur, { set, removed: [] }, this.tokens.get(id) ?? 0);
    return true;
  }

  async renewLease(id: string, token: number, expires_at: number): Promise<boolean> {
    const cur = this.jobs.get(id);
    if (!cur || cur.status !== "running" || !cur.lease || cur.lease.token !== token) return false;
    this.change(id, cur, { set: { lease: { ...cur.lease, expires_at } }, removed: [] }, this.tokens.get(id) ?? 0);
    return true;
  }

  async pending(limit = Number.MAX_SAFE_INTEGER): Promise<JobRecord[]> {
    const list = [...this.pendingIds].map((id) => this.jobs.get(id)!).sort(comparePending);
    return list.slice(0, limit);
  }

  async running(): Promise<JobRecord[]> {
    return [...this.runningIds].map((id) => this.jobs.get(id)!);
  }

  async counts(): Promise<JobCounts> {
    const out: JobCounts = {};
    for (const [type, byStatus] of this.countsByType) {
      const row: Partial<Record<JobStatus, number>> = {};
      for (const [s, n] of byStatus) if (n > 0) row[s] = n;
      out[type] = row;
    }
    return out;
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
    this.writeRaw(JSON.stringify({ d: decision }));
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
      if (j.created_at >= before || (j.status !== "completed" && j.status !== "failed" && j.status !== "cancelled")) continue;
      this.remove(j.id);
      this.write({ x: j.id });
      n++;
    }
    return n;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    fs.closeSync(this.fd);
    this.closed = true;
    releaseLock(this.lockPath);
  }

  /** Write a snapshot of the whole state and truncate the journal. Runs by itself when the journal grows. */
  compact(): void {
    this.flush();
    const tmp = `${this.snapshotPath}.tmp`;
    const out = fs.openSync(tmp, "w");
    try {
      let chunk: string[] = [];
      const push = (l: Line) => {
        chunk.push(JSON.stringify(l));
        if (chunk.length >= 1000) { fs.writeSync(out, chunk.join("\n") + "\n"); chunk = []; }
      };
      for (const j of this.jobs.values()) push({ j, s: this.tokens.get(j.id) ?? 0 });
      for (const f of this.failures.values()) push({ f });
      for (const d of this.decisions.values()) push({ d });
      if (chunk.length) fs.writeSync(out, chunk.join("\n") + "\n");
      fs.fsyncSync(out);
    } finally {
      fs.closeSync(out);
    }
    fs.renameSync(tmp, this.snapshotPath);
    fs.ftruncateSync(this.fd, 0);
    this.journalLines = 0;
  }

  // --- internals -------------------------------------------------------------

  private assertOpen(): void {
    if (this.closed) throw new Error("EmbeddedJobStore is closed");
  }

  /** Put a record into the maps and indexes (used by writes and by replay). */
  private apply(rec: JobRecord, token: number): void {
    const prev = this.jobs.get(rec.id);
    if (prev) this.bumpCount(prev.type, prev.status, -1);
    this.bumpCount(rec.type, rec.status, 1);
    this.jobs.set(rec.id, rec);
    this.tokens.set(rec.id, token);
    if (rec.idempotency_key !== undefined) this.idem.set(rec.idempotency_key, rec.id);
    if (!prev) this.ownerSet(rec.owner, true).add(rec.id); // owner never changes after create
    if (rec.status === "pending") this.pendingIds.add(rec.id);
    else this.pendingIds.delete(rec.id);
    if (rec.status === "running") this.runningIds.add(rec.id);
    else this.runningIds.delete(rec.id);
  }

  /** Journal a change to `cur` and install the new record (unchanged parts shared with `cur`, all frozen). */
  private change(id: string, cur: JobRecord, c: RecordChange, token: number): JobRecord {
    const line: ChangeLine = { u: id, s: token, p: c.set };
    if (c.removed.length > 0) line.d = c.removed;
    if (c.history) line.h = c.history;
    const json = JSON.stringify(line);
    this.writeRaw(json);
    const owned = Object.values(c.set).some((v) => v !== null && typeof v === "object") ? (JSON.parse(json) as ChangeLine) : line;
    const next = applyChange(cur, owned);
    this.apply(next, token);
    return next;
  }

  private remove(id: string): void {
    const j = this.jobs.get(id);
    if (!j) return;
    this.bumpCount(j.type, j.status, -1);
    this.jobs.delete(id);
    this.tokens.delete(id);
    this.decisions.delete(id);
    this.pendingIds.delete(id);
    this.runningIds.delete(id);
    const owned = this.ownerSet(j.owner, false);
    owned?.delete(id);
    if (owned && owned.size === 0 && j.owner) this.ownerIds.delete(j.owner);
    if (j.idempotency_key !== undefined && this.idem.get(j.idempotency_key) === id) this.idem.delete(j.idempotency_key);
  }

  /** The id set of `owner` ("" or absent: the unowned set); created when `make`. */
  private ownerSet(owner: string | undefined, make: true): Set<string>;
  private ownerSet(owner: string | undefined, make: false): Set<string> | undefined;
  private ownerSet(owner: string | undefined, make: boolean): Set<string> | undefined {
    if (!owner) return this.unownedIds;
    let set = this.ownerIds.get(owner);
    if (!set && make) this.ownerIds.set(owner, (set = new Set()));
    return set;
  }

  private bumpCount(type: string, status: JobStatus, d: number): void {
    let m = this.countsByType.get(type);
    if (!m) this.countsByType.set(type, (m = new Map()));
    m.set(status, (m.get(status) ?? 0) + d);
  }

  private clearFailures(nodeId: string, type: string | null): void {
    if (type !== null) { this.failures.delete(failKey(nodeId, type)); return; }
    for (const [k, f] of this.failures) if (f.node_id === nodeId) this.failures.delete(k);
  }

  private write(l: Line): void {
    this.writeRaw(JSON.stringify(l));
  }

  private writeRaw(line: string): void {
    this.buffer.push(line);
    this.journalLines++;
    if (this.buffer.length >= 4096) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.closed || this.buffer.length === 0) return;
    const data = this.buffer.join("\n") + "\n";
    this.buffer = [];
    fs.writeSync(this.fd, data);
    if (this.journalLines > this.compactAfter + this.jobs.size) this.compact();
  }

  /** Replay one file; returns the number of lines read. A torn last line is skipped. */
  private replay(file: string): number {
    if (!fs.existsSync(file)) return 0;
    const text = fs.readFileSync(file, "utf8");
    let n = 0;
    for (const raw of text.split("\n")) {
      if (!raw) continue;
      let l: Line;
      try {
        l = JSON.parse(raw) as Line;
      } catch {
        continue; // a write torn by a crash: everything before it is intact
      }
      n++;
      if ("j" in l) this.apply(deepFreeze(l.j), l.s);
      else if ("u" in l) {
        const cur = this.jobs.get(l.u);
        if (cur) this.apply(applyChange(cur, l), l.s); // missing: compacted or purged since
      }
      else if ("f" in l) this.failures.set(failKey(l.f.node_id, l.f.type), l.f);
      else if ("fc" in l) this.clearFailures(l.fc[0], l.fc[1]);
      else if ("d" in l) this.decisions.set(l.d.job_id, deepFreeze(l.d));
      else if ("x" in l) this.remove(l.x);
    }
    return n;
  }
}

/**
 * One process per store folder: two processes appending to one journal would corrupt it.
 * The lock file holds the owner's pid; a lock left by a dead process is taken over.
 */
function takeLock(file: string): void {
  try {
    const owner = Number(fs.readFileSync(file, "utf8").trim());
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && pidAlive(owner)) {
      throw new Error(`job store folder ${path.dirname(file)} is in use by process ${owner}; stop it or use another paths.state`);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  fs.writeFileSync(file, String(process.pid));
}

function releaseLock(file: string): void {
  try {
    if (fs.readFileSync(file, "utf8").trim() === String(process.pid)) fs.rmSync(file, { force: true });
  } catch {
    /* already gone */
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The record after a journaled change (freezing what is new; `cur` is left as it is). */
function applyChange(cur: JobRecord, c: ChangeLine): JobRecord {
  const next = { ...cur, ...deepFreeze(c.p) } as Record<string, unknown>;
  for (const k of c.d ?? []) delete next[k];
  if (c.h) next.history = Object.freeze([...cur.history, deepFreeze(c.h)]);
  return Object.freeze(next) as unknown as JobRecord;
}

/** Freezes `v` and everything reachable from it; returns `v`. A frozen object is taken as frozen all through (every one this store froze is). */
function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === "object" && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
  }
  return v;
}
