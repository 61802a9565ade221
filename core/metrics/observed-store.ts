/**
 * A JobStore that tells listeners about every job it creates and every status change it
 * makes, with the full record the store returned. Metrics and webhook delivery are fed
 * from here rather than from calls sprinkled through the coordinator: every state move of
 * a job is exactly one successful store write (a compare-and-set), so counting writes
 * counts each submission, start and ending once, and the record carries everything a
 * listener needs (type, model, timestamps, owner, webhook) without another store read.
 */
import type { JobRecord, JobStatus } from "../job.ts";
import type { JobStore } from "../../coordinator/job-store.ts";

export interface JobStoreListener {
  /** A job was stored (pending, or already running when placed at submit). */
  created?(rec: JobRecord): void;
  /** A job's status changed from one of `from` to `rec.status`. Same-status writes are not reported. */
  moved?(from: readonly JobStatus[], rec: JobRecord): void;
}

/**
 * `inner` with `create` and `transition` observed; every other method is the store's own
 * (a Proxy, so a method added to the JobStore contract later passes through untouched).
 */
export function observeJobStore(inner: JobStore, listeners: JobStoreListener[]): JobStore {
  if (listeners.length === 0) return inner;
  const create: JobStore["create"] = async (job) => {
    const out = await inner.create(job);
    if (out.created) for (const l of listeners) safe(() => l.created?.(out.job));
    return out;
  };
  const transition: JobStore["transition"] = async (id, from, patch, opts) => {
    const rec = await inner.transition(id, from, patch, opts);
    if (rec && !from.includes(rec.status)) for (const l of listeners) safe(() => l.moved?.(from, rec));
    return rec;
  };
  // Bound once per method, not on every call: the coordinator calls the store per job.
  const bound = new Map<PropertyKey, unknown>([
    ["create", create],
    ["transition", transition],
  ]);
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const b = bound.get(prop);
      if (b !== undefined) return b;
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== "function") return v;
      const f = (v as (...a: unknown[]) => unknown).bind(target);
      bound.set(prop, f);
      return f;
    },
  });
}

/** A listener's bug must never fail the store write the coordinator is waiting for. */
function safe(fn: () => void): void {
  try {
    fn();
  } catch {
    // Listeners keep their own logs; the job's state is already written.
  }
}
