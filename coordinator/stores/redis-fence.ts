/**
 * Fencing of the Redis job store by the leader epoch (coordinator/leader-lease.ts).
 *
 * Every write script is defined with `FENCE_PRELUDE` in front: its first argument is the
 * writer's epoch ('' = unfenced, single-coordinator deployments and tools), removed from
 * ARGV before the script proper runs, so the scripts keep their own argument layout. The
 * write happens only if the epoch equals `<prefix>leader:epoch`, checked inside the same
 * atomic script: a deposed leader (paused past its lease, cut off from Redis) can neither
 * move a job nor grant a lease once a successor has taken over.
 */

export const FENCE_PRELUDE = `
local __epoch = table.remove(ARGV, 1)
if __epoch ~= '' then
  local __cur = redis.call('GET', ARGV[1]..'leader:epoch')
  if __cur ~= __epoch then
    return redis.error_reply('FENCED epoch '..__epoch..' is not the leader epoch '..tostring(__cur))
  end
end
`;

/** One plain Redis command behind the fence (ARGV after the epoch: p, command, args...). */
export const FENCED_CALL = `${FENCE_PRELUDE}
return redis.call(unpack(ARGV, 2))
`;

/** A write refused because the writer's epoch is not the leader's: it has been deposed. */
export class FencedError extends Error {
  readonly code = "FENCED";
  constructor(message: string) {
    super(message);
    this.name = "FencedError";
  }
}

export const isFenced = (err: unknown): boolean => /^FENCED /.test(String((err as Error)?.message ?? ""));

export interface StoreFence {
  /** The epoch this process leads with, or null while it does not lead (writes then throw). */
  epoch(): number | null;
  /** Called on every refused write: the elector steps down at once. */
  onFenced?(err: FencedError): void;
}
