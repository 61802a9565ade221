/**
 * The shared setup of the leader-lease integration tests (ha-leader-fence, leader-epoch-flush):
 * one real redis-server for the file, clients closed after it, a fresh key prefix per test,
 * and the job store of a coordinator as its fence sees its epoch (a paused leader's epoch
 * never changes; the new leader's is set once it is elected).
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll } from "vitest";
import { Redis } from "ioredis";
import { startRedis, type ServerHandle } from "../../deploy/servers/infra.ts";
import { RedisJobStore } from "../../coordinator/stores/redis-store.ts";

export interface LeaderRedis {
  /** A new client of the file's redis-server (closed after the file's tests). */
  client(): Redis;
  /** A fresh key prefix: tests of one file do not see each other's leases or jobs. */
  prefix(tag?: string): string;
  /** A job store fenced by `epoch()`, and how many of its writes the fence refused so far. */
  fencedStore(prefix: string, epoch: () => number | null): { store: RedisJobStore; refusals(): number };
}

/** Registers the file's beforeAll/afterAll: call it at the top level of a test file. */
export function useLeaderRedis(): LeaderRedis {
  let server: ServerHandle | undefined;
  const clients: Redis[] = [];
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await server?.stop();
  });
  const client = () => {
    if (!server) throw new Error("useLeaderRedis: the redis-server is not started yet (call client() inside a test)");
    const r = new Redis(server.url);
    clients.push(r);
    return r;
  };
  return {
    client,
    prefix: (tag = "ha") => `${tag}${randomUUID().slice(0, 8)}:`,
    fencedStore: (prefix, epoch) => {
      let refused = 0;
      const store = new RedisJobStore({ client: client(), prefix, fence: { epoch, onFenced: () => void refused++ } });
      return { store, refusals: () => refused };
    },
  };
}
