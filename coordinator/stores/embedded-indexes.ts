/**
 * The embedded store's in-memory side: the job records and the indexes kept beside them
 * (idempotency keys, pending and running ids, counts per type and status, jobs per
 * owner), updated together by `apply` and `remove`, for writes and replay alike.
 *
 * Records are deeply frozen and handed out as they are (no copy per read): a record is a
 * snapshot that never changes; a transition makes a new one, sharing the unchanged parts.
 */
import type { JobRecord, JobStatus } from "../../core/job.ts";
import type { JobCounts, JobListFilter, JobListPage } from "../job-store.ts";
import type { ChangeLine } from "./embedded-journal.ts";
import { comparePending } from "../dispatch-order.ts";

export class JobIndexes {
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

  get size(): number {
    return this.jobs.size;
  }

  get(id: string): JobRecord | undefined {
    return this.jobs.get(id);
  }

  /** The last fencing token issued for the job (0: none yet). */
  token(id: string): number {
    return this.tokens.get(id) ?? 0;
  }

  byIdempotencyKey(key: string): JobRecord | undefined {
    const id = this.idem.get(key);
    return id ? this.jobs.get(id) : undefined;
  }

  /** Every record, in creation order. */
  values(): IterableIterator<JobRecord> {
    return this.jobs.values();
  }

  list(filter: JobListFilter): JobListPage {
    // Map/Set iteration order is creation order; walk it backwards for newest first.
    // With an owner filter only that owner's jobs are walked (its index set).
    const all: JobRecord[] =
      filter.owner === undefined
        ? [...this.jobs.values()]
        : [...(filter.owner === null ? this.unownedIds : (this.ownerIds.get(filter.owner) ?? []))].map((id) => this.jobs.get(id)!);
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

  /** Pending jobs in dispatch order. */
  pending(): JobRecord[] {
    return [...this.pendingIds].map((id) => this.jobs.get(id)!).sort(comparePending);
  }

  running(): JobRecord[] {
    return [...this.runningIds].map((id) => this.jobs.get(id)!);
  }

  counts(): JobCounts {
    const out: JobCounts = {};
    for (const [type, byStatus] of this.countsByType) {
      const row: Partial<Record<JobStatus, number>> = {};
      for (const [s, n] of byStatus) if (n > 0) row[s] = n;
      out[type] = row;
    }
    return out;
  }

  /** Put a record into the maps and indexes (used by writes and by replay). */
  apply(rec: JobRecord, token: number): void {
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

  /** Drop a job and its index entries; returns the record removed. */
  remove(id: string): JobRecord | undefined {
    const j = this.jobs.get(id);
    if (!j) return undefined;
    this.bumpCount(j.type, j.status, -1);
    this.jobs.delete(id);
    this.tokens.delete(id);
    this.pendingIds.delete(id);
    this.runningIds.delete(id);
    const owned = this.ownerSet(j.owner, false);
    owned?.delete(id);
    if (owned && owned.size === 0 && j.owner) this.ownerIds.delete(j.owner);
    if (j.idempotency_key !== undefined && this.idem.get(j.idempotency_key) === id) this.idem.delete(j.idempotency_key);
    return j;
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
}

/** The record after a journaled change (freezing what is new; `cur` is left as it is). */
export function applyChange(cur: JobRecord, c: ChangeLine): JobRecord {
  const next = { ...cur, ...deepFreeze(c.p) } as Record<string, unknown>;
  for (const k of c.d ?? []) delete next[k];
  if (c.h) next.history = Object.freeze([...cur.history, deepFreeze(c.h)]);
  return Object.freeze(next) as unknown as JobRecord;
}

/** Freezes `v` and everything reachable from it; returns `v`. A frozen object is taken as frozen all through (every one this store froze is). */
export function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === "object" && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
  }
  return v;
}
