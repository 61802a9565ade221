/**
 * A coordinator stopped while its standby elector's `acquire` is in flight (SIGTERM during a
 * try): the lease the try took must be handed back, and no term may start after stop()
 * resolved. Before, the elector checked `stopped` only before sending the acquire, so a stop
 * that landed during it still started a term (onElected) that nothing renewed, and the lease
 * stayed held in Redis for a whole lease_ms, keeping the other standbys out.
 * Event order only (a deferred acquire), no timing.
 */
import assert from "node:assert/strict";
import { describe, it } from "vitest";
import { LeaderElector } from "../../coordinator/leader-election.ts";
import type { LeaderLease } from "../../coordinator/leader-lease.ts";
import { silentLogger } from "../../core/logger.ts";

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe("LeaderElector.stop during an acquire in flight", () => {
  it("releases the lease the try took and never starts the term", async () => {
    const acquired = deferred<number | null>();
    const sent = deferred<void>();
    const released: number[] = [];
    const lease = {
      leaseMs: 3000,
      holder: "standby#1",
      lapsesInMs: null as number | null,
      acquire: () => {
        sent.resolve();
        return acquired.promise;
      },
      renew: async () => true,
      release: async (epoch: number) => void released.push(epoch),
    };
    const elected: number[] = [];
    const deposed: number[] = [];
    const elector = new LeaderElector(
      lease as unknown as LeaderLease,
      { onElected: async (e) => void elected.push(e), onDeposed: async (e) => void deposed.push(e) },
      silentLogger,
      { renewMs: 500, safetyMs: 1000, now: () => 0 },
    );
    elector.start();
    await sent.promise;
    const stopped = elector.stop();
    acquired.resolve(42);
    await stopped;
    // Let the tick that was in flight run to its end.
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
    assert.deepEqual(elected, [], "no term starts after stop()");
    assert.deepEqual(deposed, []);
    assert.deepEqual(released, [42], "the lease taken by the try is handed back");
    assert.equal(elector.isLeader(), false);
  });

  it("a try that never answers (Redis stalled) holds stop() up for at most a renew period", async () => {
    const sent = deferred<void>();
    const lease = {
      leaseMs: 3000,
      holder: "standby#1",
      lapsesInMs: null as number | null,
      acquire: () => {
        sent.resolve();
        return new Promise<number | null>(() => {});
      },
      renew: async () => true,
      release: async () => {},
    };
    const elector = new LeaderElector(lease as unknown as LeaderLease, { onElected: async () => {}, onDeposed: async () => {} }, silentLogger, {
      renewMs: 50,
      safetyMs: 1000,
      now: () => 0,
    });
    elector.start();
    await sent.promise;
    // Resolves (the test would time out otherwise); no figure is asserted.
    await elector.stop();
    assert.equal(elector.isLeader(), false);
  });

  it("a stop with no try in flight changes nothing else (no release of a lease it never took)", async () => {
    const released: number[] = [];
    const lease = {
      leaseMs: 3000,
      holder: "standby#1",
      lapsesInMs: null as number | null,
      acquire: async () => null,
      renew: async () => true,
      release: async (epoch: number) => void released.push(epoch),
    };
    const elector = new LeaderElector(lease as unknown as LeaderLease, { onElected: async () => {}, onDeposed: async () => {} }, silentLogger, {
      renewMs: 500,
      safetyMs: 1000,
      now: () => 0,
    });
    elector.start();
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
    await elector.stop();
    assert.deepEqual(released, []);
    assert.equal(elector.isLeader(), false);
  });
});
