/**
 * The shared setup of the coordinator-HA e2e tests (ha-coordinator, leader-flushall): a
 * distributed farm of real processes with two coordinators electing a leader through the
 * lease in Redis (3 s lease, 500 ms renewals), diag agents, and what those tests ask of it:
 * who leads with which epoch, waiting for a condition with the coordinators' logs on failure,
 * submitting diag.sleep jobs, and checking that each job completed exactly once.
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { startLocalFarm, type LocalFarm, type RoleProcess } from "../../deploy/servers/farm-procs.ts";
import { http, waitJob, type HttpResult } from "./http.ts";

export const HA_LEADER_LEASE_MS = 3000;

export interface HaFarm {
  farm: LocalFarm;
  /** A client of the farm's Redis (the lease lives there). */
  redis: Redis;
  /** The leading coordinator's process and epoch, from the lease (null: nobody leads, or not one of ours). */
  leader(): Promise<{ proc: RoleProcess; epoch: number } | null>;
  /** The epoch in the lease, whoever holds it. */
  leaderEpoch(): Promise<number | null>;
  /** Every epoch a coordinator logged on election. */
  elected(): number[];
  /** Polls `f` every 50 ms until it gives a value; fails after `timeoutMs` with the coordinators' last output. */
  until<T>(what: string, f: () => Promise<T | null | undefined | false>, timeoutMs: number): Promise<T>;
  /** Submits `n` diag.sleep jobs of `seconds` in `steps` progress steps; their ids. */
  submitSleeps(n: number, seconds: number, steps?: number): Promise<string[]>;
  /** Every job completed, with exactly one completion in its history. */
  assertCompletedOnce(ids: string[]): Promise<void>;
  stop(): Promise<void>;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `agents` diag agents; `env` adds or overrides settings. */
export async function startHaFarm(opts: { agents: number; env?: Record<string, string> }): Promise<HaFarm> {
  const farm = await startLocalFarm({
    agents: opts.agents,
    coordinators: 2,
    env: {
      FARM_AGENT__PLUGINS: '["diag"]',
      FARM_AGENT__TELEMETRY_INTERVAL_MS: "500",
      FARM_COORDINATOR__SWEEP_INTERVAL_MS: "250",
      FARM_COORDINATOR__LEADER__LEASE_MS: String(HA_LEADER_LEASE_MS),
      FARM_COORDINATOR__LEADER__RENEW_MS: "500",
      FARM_API__RATE_LIMITS__ENABLED: "false",
      FARM_LOG_LEVEL: "info",
      ...opts.env,
    },
  });
  const redis = new Redis(farm.redis.url);
  const key = `${farm.env.FARM_REDIS__PREFIX!}leader`;
  // The lease's value: `<node id>#<instance> <epoch>` (coordinator/leader-lease.ts).
  const lease = async () => {
    const v = await redis.get(key);
    return v ? /^(.*)#[0-9a-f]+ (\d+)$/.exec(v) : null;
  };
  const ha: HaFarm = {
    farm,
    redis,
    leader: async () => {
      const m = await lease();
      const proc = m ? farm.coordinators.find((c) => c.name === m[1]) : undefined;
      return proc && m ? { proc, epoch: Number(m[2]) } : null;
    },
    leaderEpoch: async () => {
      const m = await lease();
      return m ? Number(m[2]) : null;
    },
    elected: () =>
      farm.coordinators.flatMap((c) =>
        c
          .output()
          .split("\n")
          .filter((l) => l.includes("coordinator elected leader"))
          .map((l) => Number(/"epoch":(\d+)/.exec(l)?.[1] ?? NaN)),
      ),
    until: async (what, f, timeoutMs) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const v = await f().catch(() => null);
        if (v) return v;
        if (Date.now() > deadline)
          throw new Error(`${what} not within ${timeoutMs} ms\n${farm.coordinators.map((c) => `--- ${c.name}\n${c.output().slice(-3000)}`).join("\n")}`);
        await sleep(50);
      }
    },
    submitSleeps: async (n, seconds, steps = 4) => {
      const ids: string[] = [];
      for (let i = 0; i < n; i++) {
        const r: HttpResult<Record<string, unknown>> = await http(farm.url, "POST", "/api/v1/jobs", { type: "diag.sleep", params: { seconds, steps } });
        assert.equal(r.status, 202, JSON.stringify(r.body));
        ids.push(String(r.body.job_id));
      }
      return ids;
    },
    assertCompletedOnce: async (ids) => {
      for (const id of ids) {
        const job = await waitJob(farm.url, id, 60_000);
        assert.equal(job.status, "completed", JSON.stringify(job));
        const why = await http(farm.url, "GET", `/api/v1/jobs/${id}/why`);
        const events = (why.body.history as { event: string }[]).map((h) => h.event);
        assert.equal(events.filter((e) => e === "completed").length, 1, `${id}: ${events.join(",")}`);
      }
    },
    stop: async () => {
      redis.disconnect();
      await farm.stop();
    },
  };
  return ha;
}
