/**
 * Which coordinator may dispatch to this agent (coordinator HA, issue 15): the highest
 * leader epoch heard of, from dispatches, the `coordinator.started` broadcast and heartbeat
 * answers. A dispatch from an older leader (a deposed coordinator's late send) is refused
 * with STALE_LEASE, and the epoch rides on each heartbeat: a report carrying the new
 * leader's epoch was built after this agent stopped accepting the old leader's dispatches,
 * so a recovered job it does not list will never start here (coordinator/node-events.ts).
 */
import { FarmError } from "../core/errors.ts";

export class LeaderEpochFence {
  /** 0: no leader heard of yet (one coordinator, no HA; or none announced itself yet). */
  private epoch = 0;

  get current(): number {
    return this.epoch;
  }

  /**
   * A dispatch sent under `epoch` (absent: one coordinator, not fenced here). STALE_LEASE
   * when a newer leader is known; a newer epoch is noted. `epoch` must already be a positive
   * integer (the agent's dispatch check).
   */
  admit(jobId: string, epoch: number | undefined): void {
    if (epoch === undefined) return;
    if (epoch < this.epoch) {
      throw new FarmError("STALE_LEASE", `dispatch of job ${jobId} comes from leader epoch ${epoch}; epoch ${this.epoch} leads now`, {
        field: "epoch",
        constraint: "current leader",
      });
    }
    this.epoch = epoch;
  }

  /**
   * A leader epoch heard of: from now on older leaders' dispatches are refused. Epochs only
   * grow, except when Redis was restored from an old snapshot and every coordinator restarted
   * (deploy/README "Epochs never go backwards"): a new term's own announcement (`announced`,
   * the `coordinator.started` broadcast, sent only by a process just elected) is therefore
   * taken as it is, or the agent would refuse the only leader there is forever.
   */
  note(epoch: unknown, announced = false): void {
    if (!Number.isSafeInteger(epoch) || (epoch as number) <= 0) return;
    if (announced || (epoch as number) > this.epoch) this.epoch = epoch as number;
  }

  /** The heartbeat's `leader_epoch` field, when a leader was heard of. */
  reportField(): { leader_epoch?: number } {
    return this.epoch > 0 ? { leader_epoch: this.epoch } : {};
  }
}
