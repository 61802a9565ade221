/**
 * Parent jobs: one job that fans out into one child job per item (a batch of prompts) and
 * ends when every child has ended.
 *
 * Why in the coordinator and in the job store (not an orchestrator in the API process):
 * the parent and its children are ordinary job records, so they survive a restart of any
 * process and work the same in embedded and distributed mode. A parent never runs on a
 * node: it is created `running` without a lease (the lease sweep and the scheduler never
 * see it), its children are placed by the scheduler like any job (each on whichever free
 * node offers the model, so a faster node simply comes back for more), and the parent's
 * progress ("n of N") and ending follow from its children's endings.
 *
 * Child ids are `<parent id>-<index>`, so a restarted coordinator finds every child from
 * the parent record alone, and creates any child a crash left uncreated.
 *
 * The parent's ending (decided here, documented in README):
 * - every child completed, or some completed and some failed -> `completed`, with a
 *   per-item list in prompt order (`result.items[i].status` and `.error` for failures)
 *   and the counts; a partly failed batch is still a usable result;
 * - every child failed -> `failed` (JOB_FAILED naming the first item's error), the
 *   per-item list still in `result`;
 * - cancelled by request -> `cancelled` once every child has ended; items that finished
 *   before the cancel keep their results.
 */
import { FarmError, toFarmError, validation, type SerializedError } from "../core/errors.ts";
import type { Clock } from "../core/clock.ts";
import type { JobChildren, JobEvent, JobRecord } from "../core/job.ts";
import { isTerminal } from "../core/job.ts";
import type { Logger } from "../core/logger.ts";
import type { JobStore } from "./job-store.ts";
import { finishParent, markCancelRequested, updateJob } from "./state-machine.ts";

/** Most items one parent may have (the API allows 100 prompts; internal callers up to this). */
export const MAX_CHILDREN = 1000;

export const childId = (parentId: string, index: number) => `${parentId}-${index}`;

/** What the parent bookkeeping needs from the coordinator. */
export interface ParentHost {
  store: JobStore;
  clock: Clock;
  log: Logger;
  /** Create (and queue or place) one child with this id; idempotent when it exists already. */
  submitChild(parent: JobRecord, index: number): Promise<JobRecord>;
  /** Cancel one child (pending -> cancelled at once, running -> cancel requested). */
  cancelChild(id: string): Promise<void>;
  publish(e: JobEvent): void;
  /** The parent's final event (completed / error). */
  publishEnd(rec: JobRecord): void;
}

interface OpenParent {
  count: number;
  ended: Set<number>;
  failed: number;
  /** Finishing is under way: a late duplicate ending must not finish it twice. */
  finishing: boolean;
  /** A progress write is in flight; `progressAgain`: endings came meanwhile, write once more after it. */
  progressBusy: boolean;
  progressAgain: boolean;
  /** The n last written, so endings folded together write once. */
  progressN: number;
}

/** Validates `children` of a submission: a child type name and 1..MAX_CHILDREN object items. */
export function checkChildren(v: unknown): JobChildren {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw validation("children", "type", "children must be an object {type, items}");
  const { type, items } = v as Record<string, unknown>;
  if (typeof type !== "string" || !/^[A-Za-z0-9_.:-]{1,128}$/.test(type)) throw validation("children.type", "pattern", "children.type must be a job type name");
  if (!Array.isArray(items) || items.length < 1 || items.length > MAX_CHILDREN) {
    throw validation("children.items", "length", `children.items must be an array of 1-${MAX_CHILDREN} params objects`);
  }
  items.forEach((it, i) => {
    if (typeof it !== "object" || it === null || Array.isArray(it)) throw validation(`children.items[${i}]`, "type", `children.items[${i}] must be an object`);
  });
  return { type, items: items as Record<string, unknown>[] };
}

export class ParentJobs {
  private readonly open = new Map<string, OpenParent>();

  constructor(private readonly host: ParentHost) {}

  /** True when the id names a parent this coordinator is tracking. */
  has(id: string): boolean {
    return this.open.has(id);
  }

  /** Persist the parent (running, no lease), then create its children. Returns the parent. */
  async create(parent: JobRecord): Promise<JobRecord> {
    const count = parent.children?.items.length ?? 0;
    const { job, created } = await this.host.store.create(parent);
    if (!created) return job; // same idempotency key: the existing batch
    this.open.set(job.id, { count, ended: new Set(), failed: 0, finishing: false, progressBusy: false, progressAgain: false, progressN: 0 });
    await this.createChildren(job, new Set());
    return job;
  }

  /**
   * After a restart: every running parent in the store is tracked again; its children are
   * read back (a missing one, left by a crash during creation, is created now) and a
   * parent whose children have all ended is finished.
   */
  async recover(running: readonly JobRecord[]): Promise<void> {
    for (const p of running) {
      if (!p.children) continue;
      const state: OpenParent = {
        count: p.children.items.length,
        ended: new Set(),
        failed: 0,
        finishing: false,
        progressBusy: false,
        progressAgain: false,
        progressN: 0,
      };
      this.open.set(p.id, state);
      const kids = await Promise.all(p.children.items.map((_, i) => this.host.store.get(childId(p.id, i))));
      const exists = new Set<number>();
      kids.forEach((k, i) => {
        if (!k) return;
        exists.add(i);
        if (isTerminal(k.status)) {
          state.ended.add(i);
          if (k.status === "failed") state.failed++;
        }
      });
      if (exists.size < state.count) await this.createChildren(p, exists);
      await this.afterEnding(p.id);
    }
  }

  /** A child reached a terminal status (called once per ending, after its store write). */
  childEnded(child: JobRecord): void {
    const ref = child.parent;
    if (!ref) return;
    const state = this.open.get(ref.id);
    if (!state || state.ended.has(ref.index)) return;
    state.ended.add(ref.index);
    if (child.status === "failed") state.failed++;
    // After this turn: the ending child's slot is granted to the next job first, so the
    // parent's bookkeeping write never queues in front of a grant on the store connection.
    setImmediate(() => {
      this.afterEnding(ref.id).catch((err: unknown) => {
        this.host.log.error("parent job bookkeeping failed; a coordinator restart recovers it", { job_id: ref.id, error: toFarmError(err).message });
      });
    });
  }

  /**
   * Cancel a running parent: mark it, then cancel every child that has not ended. The
   * parent becomes `cancelled` when its last child ends (at once when none was running).
   */
  async cancel(parent: JobRecord): Promise<JobRecord> {
    const now = this.host.clock.now();
    const rec = await markCancelRequested(this.host.store, parent, now, "cancelled by request: cancelling its children");
    if (!rec) throw new FarmError("CONFLICT", `job '${parent.id}' changed state while being cancelled; try again`, { field: "job_id", constraint: "stable" });
    const state = this.open.get(parent.id);
    const count = parent.children?.items.length ?? 0;
    const jobs: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      if (state?.ended.has(i)) continue;
      jobs.push(
        this.host.cancelChild(childId(parent.id, i)).catch((err: unknown) => {
          const e = toFarmError(err);
          if (e.code !== "CONFLICT" && e.code !== "NOT_FOUND") this.host.log.warn("child not cancelled", { job_id: childId(parent.id, i), error: e.message });
        }),
      );
    }
    await Promise.all(jobs);
    await this.afterEnding(parent.id);
    return (await this.host.store.get(parent.id)) ?? rec;
  }

  private async createChildren(parent: JobRecord, skip: ReadonlySet<number>): Promise<void> {
    const count = parent.children?.items.length ?? 0;
    const made: Promise<JobRecord>[] = [];
    for (let i = 0; i < count; i++) if (!skip.has(i)) made.push(this.host.submitChild(parent, i));
    await Promise.all(made);
  }

  /** Progress after an ending, or the parent's own ending when it was the last one. */
  private async afterEnding(parentId: string): Promise<void> {
    const state = this.open.get(parentId);
    if (!state || state.finishing) return;
    if (state.ended.size < state.count) return this.writeProgress(parentId, state);
    const now = this.host.clock.now();
    state.finishing = true;
    await this.finish(parentId, now).catch((err: unknown) => {
      state.finishing = false;
      throw err;
    });
    this.open.delete(parentId);
  }

  /**
   * "n of N" on the parent. Endings that arrive while a write is in flight are folded into
   * one more write with the latest count (at most one write in flight per parent), so a
   * fast batch costs far fewer store writes than one per child and never reorders n.
   */
  private async writeProgress(parentId: string, state: OpenParent): Promise<void> {
    if (state.progressBusy) {
      state.progressAgain = true;
      return;
    }
    state.progressBusy = true;
    try {
      do {
        state.progressAgain = false;
        const n = state.ended.size;
        if (state.finishing || n >= state.count || n === state.progressN) return;
        state.progressN = n;
        const now = this.host.clock.now();
        const progress = (n / state.count) * 100;
        const message = `${n} of ${state.count} done${state.failed > 0 ? ` (${state.failed} failed)` : ""}`;
        const rec = await updateJob(this.host.store, parentId, "running", { progress, message, updated_at: now });
        if (rec) this.host.publish({ type: "progress", job_id: parentId, progress, message, at: now });
      } while (state.progressAgain);
    } finally {
      state.progressBusy = false;
    }
  }

  private async finish(parentId: string, now: number): Promise<void> {
    const parent = await this.host.store.get(parentId);
    if (!parent || parent.status !== "running" || !parent.children) return;
    const kids = await Promise.all(parent.children.items.map((_, i) => this.host.store.get(childId(parentId, i))));
    const items = kids.map((k, i) => itemOf(k, i, parent.children!.items[i]!));
    const completed = items.filter((it) => it.status === "completed").length;
    const failed = items.filter((it) => it.status === "failed").length;
    const cancelled = items.length - completed - failed;
    const result = { items, total: items.length, completed, failed, cancelled };
    let status: "completed" | "failed" | "cancelled";
    let error: SerializedError | undefined;
    if (parent.cancel_requested) {
      status = "cancelled";
      error = { code: "JOB_CANCELLED", message: `cancelled by request (${completed} of ${items.length} items had completed)` };
    } else if (completed === 0) {
      status = "failed";
      const first = items.find((it) => it.error)?.error;
      error = {
        code: "JOB_FAILED",
        message: `all ${items.length} items failed${first ? `; item 0: ${first.code}: ${first.message}` : ""}`,
        details: { field: "items", constraint: "any_completed" },
      };
    } else status = "completed";
    const message = `${completed} of ${items.length} completed${failed > 0 ? `, ${failed} failed` : ""}${cancelled > 0 ? `, ${cancelled} cancelled` : ""}`;
    const rec = await finishParent(this.host.store, parentId, status, now, {
      progress: status === "completed" ? 100 : parent.progress,
      message,
      result,
      ...(error ? { error } : {}),
    });
    if (rec) this.host.publishEnd(rec);
  }
}

/** One entry of a parent's result: the child's own result fields (image_url, metadata...) plus its id and status. */
function itemOf(k: JobRecord | null, index: number, params: Record<string, unknown>): Record<string, unknown> & { status: string; error?: SerializedError } {
  const base: Record<string, unknown> = { index, job_id: k?.id ?? null };
  // A character item keeps its generation params under `generate` (character-flow.ts).
  const gen = typeof params.generate === "object" && params.generate !== null ? (params.generate as Record<string, unknown>) : params;
  if (typeof gen.prompt === "string") base.prompt = gen.prompt;
  if (!k) return { ...base, status: "failed", error: { code: "INTERNAL_ERROR", message: "child job record is missing" } };
  if (k.status === "completed") return { ...(k.result ?? {}), ...base, status: "completed" };
  return { ...base, status: k.status, error: k.error ?? { code: "JOB_FAILED", message: `item ${index} ${k.status}` } };
}
