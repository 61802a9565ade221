/**
 * Which job runs next: the queue policy, a dependency of the Coordinator beside
 * `requirementsFor` (CoordinatorDeps.queuePolicy).
 *
 * The pending queue is split into lanes per requirement class: jobs that need the same
 * kind of slot and wait in the same lane are served strictly in dispatch order (priority,
 * then age: dispatch-order.ts). Each dispatch round looks only at the head of every
 * lane, and the policy says which head is tried first. The default has one lane and
 * compares heads in dispatch order: the farm's behaviour without a policy. A fair-share
 * policy puts each owner (API key) in its own lane and prefers the head whose owner runs
 * the fewest jobs now, which `QueueView.running` answers from the coordinator's leases
 * (granted slots are counted from the moment they are reserved, so one round cannot hand
 * every free slot to one owner).
 */
import { compareDispatch } from "./dispatch-order.ts";
import type { QueuedJob } from "./pending-index.ts";

/** What a policy may consult while it orders heads (live, read during a dispatch round). */
export interface QueueView {
  /** Jobs of `owner` (undefined: jobs without an owner) running or being granted now. */
  running(owner: string | undefined): number;
}

export interface QueuePolicy {
  /**
   * The lane a queued job waits in ("" = the common lane). Must depend only on the job
   * (it is asked once, when the job is queued).
   */
  lane(job: QueuedJob): string;
  /** Negative when head `a` should be tried before head `b`; may consult the QueueView. */
  compare(a: QueuedJob, b: QueuedJob): number;
}

/** Builds the policy once per Coordinator, handing it the live view it may consult. */
export type QueuePolicyFor = (view: QueueView) => QueuePolicy;

/** The default: one lane, strict dispatch order (priority, then age). */
export const dispatchOrderPolicy: QueuePolicyFor = () => ({ lane: () => "", compare: compareDispatch });

/** Counts of running (or being granted) jobs per owner: the QueueView the coordinator hands its policy. */
export class OwnerLoad implements QueueView {
  private readonly counts = new Map<string, number>();

  running(owner: string | undefined): number {
    return this.counts.get(owner ?? "") ?? 0;
  }

  add(owner: string | undefined): void {
    const k = owner ?? "";
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
  }

  remove(owner: string | undefined): void {
    const k = owner ?? "";
    const n = (this.counts.get(k) ?? 0) - 1;
    if (n > 0) this.counts.set(k, n);
    else this.counts.delete(k);
  }
}
