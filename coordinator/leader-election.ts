/**
 * Which coordinator leads (issue 15 item 1). Every coordinator process runs an elector:
 * a standby tries to take the leader lease every `renew_ms`; the leader renews it as often.
 * The leader counts its lease as valid until `lease_ms - safety_ms` after the last renewal
 * it *sent* (by its own monotonic clock), so it stops itself before the lease can lapse in
 * Redis even when its renewals fail (Redis down, process paused); the store's fence
 * (stores/redis-fence.ts) refuses whatever a deposed leader still tries to write.
 *
 * Term changes are serialised: `onElected` finishes before `onDeposed` starts and the other
 * way round, so a term's coordinator is always stopped before the next one starts.
 */
import type { Logger } from "../core/logger.ts";
import type { LeaderLease } from "./leader-lease.ts";

/** How long after the lease's lapse (by Redis's PTTL) a standby tries to take it. */
export const LAPSE_MARGIN_MS = 10;

export interface ElectorOptions {
  /** How often the leader renews and a standby tries to take over (ms). */
  renewMs: number;
  /** Margin before the lease's end at which the leader stops counting itself as leader (ms). */
  safetyMs: number;
  /** A monotonic clock (performance.now in production, a manual one in tests). */
  now?: () => number;
}

export interface ElectorHooks {
  /** This process leads now with `epoch`: recover and start serving. */
  onElected(epoch: number): Promise<void>;
  /** It no longer does (lease lost or not renewed in time, a fenced write, stop): stop serving. */
  onDeposed(epoch: number, reason: string): Promise<void>;
}

export class LeaderElector {
  private term: { epoch: number; validUntil: number } | null = null;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private changes: Promise<void> = Promise.resolve();
  /** The tick running now (a lease call in flight): stop() waits for it. */
  private inflight: Promise<void> = Promise.resolve();
  private readonly now: () => number;

  constructor(
    private readonly lease: LeaderLease,
    private readonly hooks: ElectorHooks,
    private readonly logger: Logger,
    private readonly opts: ElectorOptions,
  ) {
    this.now = opts.now ?? (() => performance.now());
  }

  /**
   * The epoch to write with, or null when this process does not lead, or its lease may have
   * lapsed (it then also steps down). Stores call it before every write.
   */
  epoch(): number | null {
    if (!this.term) return null;
    if (this.now() >= this.term.validUntil) {
      this.depose("its lease ran out before it could renew it (paused or cut off from Redis)");
      return null;
    }
    return this.term.epoch;
  }

  isLeader(): boolean {
    return this.epoch() !== null;
  }

  /** A write was refused by the fence: another coordinator leads. */
  fenced(): void {
    this.depose("a store write was refused: another coordinator holds a newer epoch");
  }

  start(): void {
    this.inflight = this.tick();
  }

  /** Stop campaigning; a leader steps down and releases the lease so a standby takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    // A try in flight may take the lease after this point: it hands it back itself (tick).
    // Waited for at most a renew period: a Redis that stopped answering must not hang a stop.
    let waited: NodeJS.Timeout | undefined;
    await Promise.race([this.inflight, new Promise<void>((r) => (waited = setTimeout(r, this.opts.renewMs)))]);
    clearTimeout(waited);
    const term = this.term;
    if (term) {
      this.depose("stopping");
      await this.changes;
      await this.lease.release(term.epoch).catch(() => {});
    }
    await this.changes;
  }

  private depose(reason: string): void {
    const term = this.term;
    if (!term) return;
    this.term = null;
    this.logger.warn("coordinator deposed: stops serving", { epoch: term.epoch, reason });
    this.changes = this.changes
      .then(() => this.hooks.onDeposed(term.epoch, reason))
      .catch((err: unknown) => {
        this.logger.error("stepping down failed", { epoch: term.epoch, err: String(err) });
      });
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const sentAt = this.now();
    try {
      if (this.term) {
        const epoch = this.term.epoch;
        if (await this.lease.renew(epoch)) {
          if (this.term?.epoch === epoch) this.term.validUntil = sentAt + this.lease.leaseMs - this.opts.safetyMs;
        } else {
          this.depose("another coordinator holds the leader lease");
        }
      } else {
        // Wait for a term change in progress (a deposed term still stopping) before a new one.
        await this.changes;
        const epoch = this.stopped ? null : await this.lease.acquire();
        if (epoch !== null && this.stopped) {
          // stop() came while the try was in flight: no term, and the lease goes back now
          // rather than keeping the other standbys out for a whole lease_ms.
          await this.lease.release(epoch).catch(() => {});
        } else if (epoch !== null) {
          this.term = { epoch, validUntil: sentAt + this.lease.leaseMs - this.opts.safetyMs };
          this.logger.info("coordinator elected leader", { epoch, holder: this.lease.holder });
          this.changes = this.changes
            .then(() => this.hooks.onElected(epoch))
            .catch((err: unknown) => {
              this.logger.error("taking over failed: stepping down", { epoch, err: String(err) });
              this.depose(`start failed: ${String(err)}`);
            });
        }
      }
    } catch (err) {
      // Redis unreachable: a leader keeps its term until validUntil (epoch() checks), a standby waits.
      this.logger.warn("leader lease check failed", { err: String(err), leading: this.term?.epoch ?? null });
      this.epoch();
    }
    if (!this.stopped)
      this.timer = setTimeout(() => {
        this.inflight = this.tick();
      }, this.nextTickMs());
  }

  /**
   * A leader renews every `renewMs`. A standby tries as often, except that when the lease it
   * saw held lapses sooner it tries just after that (LAPSE_MARGIN_MS): a dead leader's lease
   * is taken as soon as Redis lets it go, not up to a renew period later. The lease is still
   * taken only once it has lapsed in Redis: the fence and the leader's own margin are unchanged.
   */
  private nextTickMs(): number {
    const lapse = this.term ? null : this.lease.lapsesInMs;
    return lapse !== null && lapse !== undefined && lapse + LAPSE_MARGIN_MS < this.opts.renewMs ? lapse + LAPSE_MARGIN_MS : this.opts.renewMs;
  }
}
