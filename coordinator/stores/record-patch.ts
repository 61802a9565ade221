/** Record-level helper of the embedded store: what a transition changes. */
import type { JobHistoryEntry, JobRecord } from "../../core/job.ts";
import type { JobPatch, TransitionOptions } from "../job-store.ts";

/** What a transition changes: fields set, fields removed, the history entry appended. */
export interface RecordChange {
  set: Partial<JobRecord>;
  removed: string[];
  history?: JobHistoryEntry;
}

/**
 * The change `patch`, `opts.unset`, `opts.grantLease` and `opts.history` make to `cur`.
 * A patch key whose value is undefined removes that field. `nextToken` is called once
 * when a lease is granted and returns the new fencing token; the grant also counts an
 * attempt (on top of `patch.attempts`, when given).
 */
export function patchChange(cur: JobRecord, patch: JobPatch, opts: TransitionOptions, nextToken: () => number): RecordChange {
  const set: Partial<JobRecord> = {};
  let removed: string[] = [];
  for (const k of Object.keys(patch) as (keyof JobPatch)[]) {
    if (patch[k] === undefined) removed.push(k);
    else (set as Record<string, unknown>)[k] = patch[k];
  }
  removed.push(...(opts.unset ?? []));
  if (opts.grantLease) {
    set.lease = { node_id: opts.grantLease.node_id, token: nextToken(), expires_at: opts.grantLease.expires_at };
    set.attempts = (set.attempts ?? cur.attempts) + 1;
    removed = removed.filter((k) => k !== "lease"); // the granted lease wins over an unset
  }
  const change: RecordChange = { set, removed };
  if (opts.history) change.history = opts.history;
  return change;
}
