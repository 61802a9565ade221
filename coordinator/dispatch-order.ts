/**
 * Dispatch order, written once: higher priority first, then older first. The in-memory
 * queue (pending-index.ts), the embedded store's `pending()` and the default queue policy
 * (queue-policy.ts) all compare with it. The Redis store keeps the same order as a zset
 * score computed inside its Lua scripts (`pscore` in stores/lua/move.lua, where the
 * job's priority and age are read atomically); the shared store contract test pins that
 * both stores hand pending jobs back in this order.
 */
import type { JobRecord } from "../core/job.ts";

/** Negative when `a` runs before `b`, positive when after, 0 when the order does not say. */
export function compareDispatch(a: Pick<JobRecord, "priority" | "created_at">, b: Pick<JobRecord, "priority" | "created_at">): number {
  return b.priority - a.priority || a.created_at - b.created_at;
}

/** Dispatch order made total (ties broken by id), for sorting stored records. */
export function comparePending(a: JobRecord, b: JobRecord): number {
  return compareDispatch(a, b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
