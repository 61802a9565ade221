/**
 * Coordinator high availability (issue 15 item 1): any number of coordinator processes,
 * one leading. Each runs a LeaderElector; the leader's term is built by `newTerm` (a job
 * store fenced by the term's epoch, the Coordinator, its mesh service) and torn down when
 * the term ends. A standby registers no `coordinator` service on the mesh, so agents and
 * API processes, which call `coordinator.*` by name, reach the leader only, and follow a
 * new leader as soon as its service is announced: no restart, no address to change.
 */
import crypto from "node:crypto";
import { Redis } from "ioredis";
import type { Logger } from "../core/logger.ts";
import { LeaderLease } from "./leader-lease.ts";
import { LeaderElector } from "./leader-election.ts";
import { FencedError, type StoreFence } from "./stores/redis-fence.ts";

/** One leadership term: what runs while this process leads. */
export interface CoordinatorTerm {
  /** Recover queued and running jobs from the store and start serving on the mesh. */
  start(): Promise<void>;
  /** Stop serving and dispatching; release the term's store. */
  stop(): Promise<void>;
}

export interface LeaderRoleOptions {
  redisUrl: string;
  prefix: string;
  nodeId: string;
  /** coordinator.leader: lease_ms, renew_ms. */
  leaseMs: number;
  renewMs: number;
  logger: Logger;
  /** Build a term whose store writes carry `fence` (coordinator/stores/redis-fence.ts). */
  newTerm(fence: StoreFence, epoch: number): Promise<CoordinatorTerm>;
  /** Called whenever leadership changes (metrics, logs, tests). */
  onChange?(leading: boolean, epoch: number): void;
}

export interface LeaderRole {
  elector: LeaderElector;
  lease: LeaderLease;
  stop(): Promise<void>;
}

export function startLeaderRole(opts: LeaderRoleOptions): LeaderRole {
  // Its own connection: lease renewals must not queue behind a slow store command.
  const redis = new Redis(opts.redisUrl, { maxRetriesPerRequest: 1, connectTimeout: opts.renewMs, enableOfflineQueue: false, lazyConnect: false });
  redis.on("error", () => {
    /* reported by the elector's failed checks */
  });
  const holder = `${opts.nodeId}#${crypto.randomBytes(4).toString("hex")}`;
  const lease = new LeaderLease(redis, opts.prefix, holder, opts.leaseMs);
  let term: CoordinatorTerm | null = null;
  // A safety margin of a third of the lease, at least one renew period: the leader stops
  // well before its lease can lapse in Redis and a standby can take it.
  const safetyMs = Math.max(opts.renewMs, Math.floor(opts.leaseMs / 3));
  const elector: LeaderElector = new LeaderElector(
    lease,
    {
      onElected: async (epoch) => {
        const fence: StoreFence = {
          epoch: () => {
            const e = elector.epoch();
            return e === epoch ? e : null;
          },
          onFenced: (err: FencedError) => {
            opts.logger.warn("store write refused by the leader fence", { epoch, err: err.message });
            elector.fenced();
          },
        };
        term = await opts.newTerm(fence, epoch);
        await term.start();
        opts.onChange?.(true, epoch);
      },
      onDeposed: async (epoch) => {
        const t = term;
        term = null;
        opts.onChange?.(false, epoch);
        await t?.stop();
      },
    },
    opts.logger,
    { renewMs: opts.renewMs, safetyMs },
  );
  elector.start();
  return {
    elector,
    lease,
    stop: async () => {
      await elector.stop();
      redis.disconnect();
    },
  };
}
