/**
 * A standby aims its next try at the moment the leader's lease lapses (issue 15, leader-kill
 * recovery): a failed `acquire` on a real redis-server reports the holder's remaining lease,
 * and the elector tries again just after it instead of up to a renew period later. The order
 * of events is checked under fake timers, not wall-clock figures; the lease is still taken
 * only once Redis has let it go.
 */
import assert from "node:assert/strict";
import { afterEach, describe, it, vi } from "vitest";
import { LeaderLease } from "../../coordinator/leader-lease.ts";
import { LAPSE_MARGIN_MS, LeaderElector } from "../../coordinator/leader-election.ts";
import { silentLogger } from "../../core/logger.ts";
import { useLeaderRedis } from "../helpers/leader-redis.ts";

const redis = useLeaderRedis();

describe("a standby's next try after a failed acquire", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("a failed acquire reports how long the holder's lease has left; a taken one reports nothing", async () => {
    const p = redis.prefix("lapse");
    const a = new LeaderLease(redis.client(), p, "a#1", 5000);
    const b = new LeaderLease(redis.client(), p, "b#1", 5000);
    assert.ok((await a.acquire()) !== null);
    assert.equal(a.lapsesInMs, null);
    assert.equal(await b.acquire(), null);
    assert.ok(b.lapsesInMs !== null && b.lapsesInMs > 0 && b.lapsesInMs <= 5000, `lapsesInMs ${b.lapsesInMs}`);
    // Still not takeable before it lapses: the holder releases, then b takes it and reports nothing.
    await a.release((await a.current())!.epoch);
    assert.ok((await b.acquire()) !== null);
    assert.equal(b.lapsesInMs, null);
  });

  /** A lease whose holder died: held for `lapse` ms of (fake) time, free after. */
  const deadLeadersLease = (lapse: number) => {
    const tries: number[] = [];
    const lease = {
      leaseMs: 3000,
      holder: "standby#1",
      lapsesInMs: null as number | null,
      acquire: async () => {
        const left = lapse - Date.now();
        tries.push(Date.now());
        lease.lapsesInMs = left > 0 ? left : null;
        return left > 0 ? null : 42;
      },
      renew: async () => true,
      release: async () => {},
    };
    return { lease, tries };
  };

  it("the elector tries again just after the lapse, not a renew period later, and never before it", async () => {
    vi.useFakeTimers({ now: 0 });
    const { lease, tries } = deadLeadersLease(2730);
    const elected: number[] = [];
    const elector = new LeaderElector(
      lease as unknown as LeaderLease,
      { onElected: async () => void elected.push(Date.now()), onDeposed: async () => {} },
      silentLogger,
      { renewMs: 500, safetyMs: 1000, now: () => Date.now() },
    );
    elector.start();
    await vi.advanceTimersByTimeAsync(3000);
    await elector.stop();
    // Tries every renew period while the lease is far from lapsing (0, 500, ... 2500), then one
    // aimed at the lapse: 2500 + 230 left + the margin.
    assert.deepEqual(tries, [0, 500, 1000, 1500, 2000, 2500, 2730 + LAPSE_MARGIN_MS]);
    assert.deepEqual(elected, [2730 + LAPSE_MARGIN_MS]);
  });

  it("a leader that renews keeps the standby on its renew period", async () => {
    vi.useFakeTimers({ now: 0 });
    const tries: number[] = [];
    const lease = {
      leaseMs: 3000,
      holder: "standby#1",
      lapsesInMs: null as number | null,
      acquire: async () => {
        tries.push(Date.now());
        lease.lapsesInMs = 2800; // just renewed by a live leader
        return null;
      },
      renew: async () => true,
      release: async () => {},
    };
    const elector = new LeaderElector(lease as unknown as LeaderLease, { onElected: async () => {}, onDeposed: async () => {} }, silentLogger, {
      renewMs: 500,
      safetyMs: 1000,
      now: () => Date.now(),
    });
    elector.start();
    await vi.advanceTimersByTimeAsync(2100);
    await elector.stop();
    assert.deepEqual(tries, [0, 500, 1000, 1500, 2000]);
  });
});
