/** Record-level helpers shared by the stores (the in-memory half of a transition). */
import type { JobRecord } from "../../core/job.ts";
import type { JobPatch, TransitionOptions } from "../job-store.ts";

/**
 * The record after `patch`, `opts.unset`, `opts.grantLease` and `opts.history`.
 * `nextToken` is called once when a lease is granted and returns the new fencing token.
 * Does not mutate `cur`.
 */
export function applyPatch(cur: JobRecord, patch: JobPatch, opts: TransitionOptions, nextToken: () => number): JobRecord {
  const next: JobRecord = { ...cur, ...patch };
  for (const k of Object.keys(patch) as (keyof JobPatch)[]) if (patch[k] === undefined) delete next[k];
  for (const f of opts.unset ?? []) delete next[f];
  if (opts.grantLease) {
    next.lease = { node_id: opts.grantLease.node_id, token: nextToken(), expires_at: opts.grantLease.expires_at };
    next.attempts = next.attempts + 1;
  }
  if (opts.history) next.history = [...cur.history, opts.history];
  return next;
}

/** Dispatch order: priority descending, then oldest first, then id for a total order. */
export function comparePending(a: JobRecord, b: JobRecord): number {
  return b.priority - a.priority || a.created_at - b.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
