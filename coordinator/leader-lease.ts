/**
 * The coordinator's leader lease in Redis, with a fencing epoch (issue 15 item 1).
 *
 * Keys (P = redis.prefix):
 *   P leader        "<holder> <epoch>", with a TTL of the lease length: who leads now
 *   P leader:epoch  integer, raised by one each time a new holder takes the lease; it is
 *                   the epoch of the current (or last) leader
 *
 * Epochs never go backwards, even when Redis loses both keys (FLUSHALL, a restart without
 * AOF): with `leader:epoch` gone, the counter restarts from Redis's clock in milliseconds
 * (TIME), which is above every epoch handed out before (those started from an earlier clock
 * reading and grew by one per election, far slower than 1000 a second), and never at or below
 * the highest epoch the acquiring coordinator has seen (its own, or another holder's it read).
 * Restarting at 1 instead let a paused, deposed leader's old epoch come round again: its
 * writes would then pass the fence beside the new leader's. A fresh Redis starts the same
 * way, so a first epoch is a large number; what counts is only that it grows.
 *
 * Every store write of the leader carries its epoch and is refused unless it equals
 * `P leader:epoch` (stores/redis-fence.ts), so a leader that was paused past its lease and
 * resumes after another took over cannot write anything: its epoch is lower.
 *
 * A holder is one process incarnation ("<node id>#<random>"), never a node id alone: a
 * coordinator restarted under the same node id is a new holder and gets a new epoch.
 */
import type { Redis } from "ioredis";

/**
 * ARGV: p, holder, lease_ms, highest epoch seen -> {1, epoch} taken or kept, {0, epoch of the
 * holder, ms left on its lease} held by another. Epochs travel as decimal strings (a
 * clock-seeded one is past 2^31).
 */
const ACQUIRE = `
local p, holder, ms, seen = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]) or 0
local cur = redis.call('GET', p..'leader')
if cur then
  local h, ep = string.match(cur, '^(.*) (%d+)$')
  if h == holder then
    redis.call('PEXPIRE', p..'leader', ms)
    return {1, ep}
  end
  return {0, ep or '0', redis.call('PTTL', p..'leader')}
end
local stored = tonumber(redis.call('GET', p..'leader:epoch') or '')
local ep
if stored then
  ep = stored + 1
else
  local t = redis.call('TIME')
  ep = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
if ep <= seen then ep = seen + 1 end
local s = string.format('%.0f', ep)
redis.call('SET', p..'leader:epoch', s)
redis.call('SET', p..'leader', holder..' '..s, 'PX', ms)
return {1, s}
`;

/**
 * ARGV: p, holder, epoch, lease_ms -> 1 renewed, 0 lost. A lease that lapsed while nobody
 * else took it (the epoch is still ours) is taken again: no one else can have written.
 */
const RENEW = `
local p, holder, ep, ms = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local cur = redis.call('GET', p..'leader')
if cur == holder..' '..ep then
  redis.call('PEXPIRE', p..'leader', ms)
  return 1
end
if not cur and redis.call('GET', p..'leader:epoch') == ep then
  redis.call('SET', p..'leader', holder..' '..ep, 'PX', ms)
  return 1
end
return 0
`;

/** ARGV: p, holder, epoch -> 1 released. A clean stop hands over at once instead of after the TTL. */
const RELEASE = `
if redis.call('GET', ARGV[1]..'leader') == ARGV[2]..' '..ARGV[3] then
  redis.call('DEL', ARGV[1]..'leader')
  return 1
end
return 0
`;

interface LeaseCommands {
  nbLeaderAcquire(p: string, holder: string, ms: number, seen: number): Promise<[number, string, number?]>;
  nbLeaderRenew(p: string, holder: string, epoch: number, ms: number): Promise<number>;
  nbLeaderRelease(p: string, holder: string, epoch: number): Promise<number>;
}

export interface LeaderInfo {
  holder: string;
  epoch: number;
  /** Milliseconds left on the lease. */
  ttl_ms: number;
}

export class LeaderLease {
  private readonly cmd: LeaseCommands;
  /** The highest epoch this process has held or read: a new epoch is always above it. */
  private seen = 0;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    readonly holder: string,
    readonly leaseMs: number,
  ) {
    redis.defineCommand("nbLeaderAcquire", { numberOfKeys: 0, lua: ACQUIRE });
    redis.defineCommand("nbLeaderRenew", { numberOfKeys: 0, lua: RENEW });
    redis.defineCommand("nbLeaderRelease", { numberOfKeys: 0, lua: RELEASE });
    this.cmd = redis as unknown as LeaseCommands;
  }

  /**
   * Milliseconds left on another holder's lease at the last failed `acquire` (null when
   * unknown, or after a success): when it lapses, the lease can be taken, not before.
   */
  lapsesInMs: number | null = null;

  /** Take the lease if it is free (or already ours). The epoch when taken, else null. */
  async acquire(): Promise<number | null> {
    const [ok, raw, ttl] = await this.cmd.nbLeaderAcquire(this.prefix, this.holder, this.leaseMs, this.seen);
    const epoch = this.see(Number(raw));
    const taken = Number(ok) === 1;
    // PTTL: -1 (no expiry) or -2 (gone meanwhile) say nothing about when it lapses.
    this.lapsesInMs = !taken && typeof ttl === "number" && ttl >= 0 ? ttl : null;
    return taken ? epoch : null;
  }

  /** The highest epoch this process has seen (tests, farmctl). */
  get highestSeen(): number {
    return this.seen;
  }

  private see(epoch: number): number {
    if (Number.isSafeInteger(epoch) && epoch > this.seen) this.seen = epoch;
    return epoch;
  }

  /** Extend our lease; false when another holder has it now (we are deposed). */
  async renew(epoch: number): Promise<boolean> {
    return (await this.cmd.nbLeaderRenew(this.prefix, this.holder, epoch, this.leaseMs)) === 1;
  }

  async release(epoch: number): Promise<void> {
    await this.cmd.nbLeaderRelease(this.prefix, this.holder, epoch);
  }

  /** Who leads now (farmctl and tests), or null when the lease is free. */
  async current(): Promise<LeaderInfo | null> {
    const [v, ttl] = await Promise.all([this.redis.get(`${this.prefix}leader`), this.redis.pttl(`${this.prefix}leader`)]);
    const m = v ? /^(.*) (\d+)$/.exec(v) : null;
    return m ? { holder: m[1]!, epoch: this.see(Number(m[2])), ttl_ms: ttl } : null;
  }
}
