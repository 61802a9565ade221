/**
 * Liveness and readiness of the front door.
 *
 * Liveness (`/health`) says only that this process answers: a load balancer or systemd that
 * restarted the API because Redis is down would make an outage worse. Readiness
 * (`/health/ready`) checks what a request needs, each dependency named in the answer:
 * - `coordinator`: a status call over the mesh, so it also proves the mesh (NATS) carries
 *   calls and the coordinator can read its job store (Redis in distributed mode);
 * - `mesh`: this process's transporter connection (distributed mode);
 * - `redis`: this process's own Redis connection (rate-limit counters), when it has one;
 * - `artifacts`: a metadata read in the artifact store (S3/MinIO or the local folder).
 * Each check has its own deadline, so one hung dependency cannot hang the probe.
 */
import type { ApiDeps } from "./deps.ts";

export interface CheckResult {
  ok: boolean;
  ms: number;
  error?: string;
  /** What the check learned besides ok (e.g. live agents), for people reading the probe. */
  info?: Record<string, unknown>;
}

export interface Readiness {
  ready: boolean;
  checks: Record<string, CheckResult>;
}

type Check = () => Promise<Record<string, unknown> | void>;

/** Key the artifact check reads; it never exists, so the answer is "absent", not an error. */
const PROBE_KEY = "health/ready-probe";

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export function readinessChecks(deps: ApiDeps): Record<string, Check> {
  const checks: Record<string, Check> = {
    coordinator: async () => {
      const s = await deps.farm.status();
      const nodes = Array.isArray(s.nodes) ? (s.nodes as { alive?: boolean }[]) : [];
      return { live_nodes: nodes.filter((n) => n.alive !== false).length };
    },
    artifacts: async () => {
      await deps.artifacts.stat(PROBE_KEY);
      return { kind: deps.artifacts.kind };
    },
  };
  if (deps.meshConnected) {
    const connected = deps.meshConnected;
    checks.mesh = async () => {
      if (!connected()) throw new Error("not connected to the mesh transporter");
    };
  }
  if (deps.redis) {
    const redis = deps.redis;
    checks.redis = async () => {
      const pong = await redis.ping();
      if (pong !== "PONG") throw new Error(`unexpected PING answer ${JSON.stringify(pong)}`);
    };
  }
  return checks;
}

export async function checkReadiness(checks: Record<string, Check>, deadlineMs = 2000): Promise<Readiness> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]): Promise<[string, CheckResult]> => {
      const t0 = performance.now();
      try {
        const info = await withDeadline(check(), deadlineMs);
        const r: CheckResult = { ok: true, ms: Math.round(performance.now() - t0) };
        if (info) r.info = info;
        return [name, r];
      } catch (err) {
        return [name, { ok: false, ms: Math.round(performance.now() - t0), error: err instanceof Error ? err.message : String(err) }];
      }
    }),
  );
  const result = Object.fromEntries(entries);
  return { ready: entries.every(([, r]) => r.ok), checks: result };
}
