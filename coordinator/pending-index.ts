/**
 * The coordinator's in-memory view of the pending queue, grouped by requirement class
 * (job type + model + VRAM + gpu flag) and, within a class, by the queue policy's lane
 * (queue-policy.ts; one lane by default). Jobs in one class are interchangeable for the
 * scheduler (except for the nodes a re-queued job failed on), so the dispatch loop tries
 * each lane's head: with 10,000 queued jobs of a few classes a decision costs O(lanes),
 * not O(queue).
 * Each lane is a binary heap in dispatch order (dispatch-order.ts, then arrival); the
 * policy decides between the heads.
 * Removal (cancel, dispatch) is lazy: the entry is flagged and skipped when it surfaces.
 * A round may set a head aside (`passHead`: one that waits only to avoid a node it failed
 * on, a bounded number per round) to try the job behind it; it is put back in its place at
 * the end of the round (`restorePassed`).
 */
import type { JobRecord } from "../core/job.ts";
import { compareDispatch } from "./dispatch-order.ts";
import type { QueuePolicy } from "./queue-policy.ts";

export interface QueuedJob {
  id: string;
  type: string;
  priority: number;
  created_at: number;
  requirements: JobRecord["requirements"];
  failed_on?: string[];
  avoid_until?: number;
  /** The API key that submitted it (absent: no owner), for queue policies. */
  owner?: string;
}

interface Entry {
  job: QueuedJob;
  seq: number;
  removed: boolean;
}

class Heap {
  private a: Entry[] = [];
  get size(): number {
    return this.a.length;
  }
  push(e: Entry): void {
    const a = this.a;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (before(a[p]!, a[i]!)) break;
      [a[p], a[i]] = [a[i]!, a[p]!];
      i = p;
    }
  }
  peek(): Entry | undefined {
    return this.a[0];
  }
  pop(): Entry | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l]!, a[m]!)) m = l;
        if (r < a.length && before(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    return top;
  }
}

/** Order inside one lane: dispatch order, then arrival. */
function before(x: Entry, y: Entry): boolean {
  const c = compareDispatch(x.job, y.job);
  return c !== 0 ? c < 0 : x.seq < y.seq;
}

export function requirementClass(j: Pick<QueuedJob, "type" | "requirements">): string {
  const r = j.requirements;
  return `${j.type}\u0000${r.model ?? ""}\u0000${r.vram_mb ?? 0}\u0000${r.gpu ? 1 : 0}`;
}

export class PendingIndex {
  private readonly lanes = new Map<string, Heap>();
  private readonly entries = new Map<string, Entry>();
  private readonly depth = new Map<string, number>();
  /** Heads set aside by `passHead` for the current round, with their lane. */
  private readonly passed: { key: string; e: Entry }[] = [];
  private seq = 0;

  /** `policy` picks between lane heads; the default is one lane in dispatch order. */
  constructor(private readonly policy: QueuePolicy = { lane: () => "", compare: compareDispatch }) {}

  get size(): number {
    return this.entries.size;
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  /** Every queued job id (reconciliation after a store loss walks them). */
  ids(): string[] {
    return [...this.entries.keys()];
  }

  add(job: QueuedJob): void {
    this.remove(job.id);
    const e: Entry = { job, seq: this.seq++, removed: false };
    this.entries.set(job.id, e);
    const lane = this.policy.lane(job);
    const key = lane === "" ? requirementClass(job) : `${requirementClass(job)}\u0001${lane}`;
    let h = this.lanes.get(key);
    if (!h) this.lanes.set(key, (h = new Heap()));
    h.push(e);
    this.depth.set(job.type, (this.depth.get(job.type) ?? 0) + 1);
  }

  remove(id: string): boolean {
    const e = this.entries.get(id);
    if (!e) return false;
    e.removed = true;
    this.entries.delete(id);
    const n = (this.depth.get(e.job.type) ?? 1) - 1;
    if (n > 0) this.depth.set(e.job.type, n);
    else this.depth.delete(e.job.type);
    return true;
  }

  /**
   * The best head among lanes not in `skip` (by the policy, then arrival): the job the
   * dispatcher should try next, with its lane key. O(number of lanes).
   */
  next(skip: ReadonlySet<string>): { key: string; job: QueuedJob } | undefined {
    let best: Entry | undefined;
    let bestKey = "";
    for (const [key, h] of this.lanes) {
      if (skip.has(key)) continue;
      let top = h.peek();
      while (top && top.removed) {
        h.pop();
        top = h.peek();
      }
      if (!top) {
        this.lanes.delete(key);
        continue;
      }
      if (!best || this.headBefore(top, best)) {
        best = top;
        bestKey = key;
      }
    }
    return best ? { key: bestKey, job: best.job } : undefined;
  }

  /**
   * Set the head of lane `key` (job `id`, as `next` just answered) aside until
   * `restorePassed`, so `next` offers the job behind it. O(log lane). False when `id` is
   * not that lane's head.
   */
  passHead(key: string, id: string): boolean {
    const h = this.lanes.get(key);
    const top = h?.peek();
    if (!h || !top || top.removed || top.job.id !== id) return false;
    h.pop();
    this.passed.push({ key, e: top });
    return true;
  }

  /** Put every head set aside back in its lane (same entry, so the same place in the order). */
  restorePassed(): void {
    for (const { key, e } of this.passed) {
      if (e.removed || this.entries.get(e.job.id) !== e) continue; // removed or re-added meanwhile
      let h = this.lanes.get(key);
      if (!h) this.lanes.set(key, (h = new Heap()));
      h.push(e);
    }
    this.passed.length = 0;
  }

  private headBefore(x: Entry, y: Entry): boolean {
    const c = this.policy.compare(x.job, y.job);
    return c !== 0 ? c < 0 : x.seq < y.seq;
  }

  /** Queue depth per job type. */
  depthByType(): Record<string, number> {
    return Object.fromEntries(this.depth);
  }
}
