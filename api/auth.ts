/**
 * API keys: stored as SHA-256 hashes in config with scopes (generate, read, admin),
 * sent as `Authorization: Bearer <key>` or `X-API-Key`, or `?api_key=` on a WebSocket
 * upgrade (browsers cannot set headers there). With auth off every caller is the
 * anonymous principal holding every scope (the default: loopback-only binding).
 */
import crypto from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { FarmError, notFound } from "../core/errors.ts";
import type { JobRecord } from "../core/job.ts";
import type { FarmClient } from "./farm-client.ts";
import type { FarmConfig } from "../core/config/schema.ts";
import type { RateGroup } from "./rate-limit.ts";

export type Scope = "generate" | "read" | "admin";

export interface Principal {
  name: string;
  scopes: ReadonlySet<Scope>;
  anonymous: boolean;
}

declare module "fastify" {
  interface FastifyRequest {
    principal: Principal;
  }
  interface FastifyContextConfig {
    /** Scope the route needs; default: read for GET/HEAD, generate otherwise. null = public. */
    scope?: Scope | null;
    /** Rate-limit group (see api/rate-limit.ts). */
    rateGroup?: RateGroup;
  }
}

const ALL: ReadonlySet<Scope> = new Set(["generate", "read", "admin"]);
export const ANONYMOUS: Principal = { name: "anonymous", scopes: ALL, anonymous: true };

export const hashKey = (key: string) => crypto.createHash("sha256").update(key).digest("hex");

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

/** Refuse an open, unauthenticated farm on a public address unless explicitly allowed. */
export function checkBindSafety(cfg: FarmConfig["api"]): void {
  if (!cfg.auth.enabled && !LOOPBACK.has(cfg.host) && !cfg.auth.allow_anonymous) {
    throw new FarmError(
      "VALIDATION_ERROR",
      `refusing to listen on ${cfg.host} with authentication off: enable api.auth (with keys) or set api.auth.allow_anonymous: true`,
      { field: "api.auth.enabled", constraint: "required_off_loopback" },
    );
  }
  if (cfg.auth.enabled && cfg.auth.keys.length === 0) {
    throw new FarmError("VALIDATION_ERROR", "api.auth.enabled is true but api.auth.keys is empty", { field: "api.auth.keys", constraint: "min_items" });
  }
}

const isWebSocketUpgrade = (req: FastifyRequest) => String(req.headers.upgrade ?? "").toLowerCase() === "websocket";

export function extractKey(req: FastifyRequest): string | undefined {
  const auth = req.headers.authorization;
  if (typeof auth === "string" && auth.toLowerCase().startsWith("bearer ")) return auth.slice(7).trim();
  const x = req.headers["x-api-key"];
  if (typeof x === "string" && x) return x.trim();
  // ?api_key= only where a browser cannot set headers: the WebSocket upgrade. Elsewhere a key
  // in the URL ends up in proxy logs, browser history and Referer headers.
  if (!isWebSocketUpgrade(req)) return undefined;
  const q = (req.query as Record<string, unknown> | undefined)?.api_key;
  if (typeof q === "string" && q) return q;
  return undefined;
}

/**
 * Failed authentications per client address, per minute. Auth runs before the rate
 * limiter (which keys on the principal), so key guessing is throttled here: past
 * MAX_FAILURES in a window, further unknown keys from that address get 429. A valid key is
 * never refused by it: behind one NAT or proxy address, a client with a stale key used to
 * lock every valid key (admin included) out for a minute. Guessing stays hopeless because
 * keys are long random strings, not because of this throttle.
 */
const FAILURE_WINDOW_MS = 60_000;
const MAX_FAILURES = 30;

class FailureThrottle {
  private readonly hits = new Map<string, { n: number; until: number }>();
  check(ip: string, now: number): number {
    const h = this.hits.get(ip);
    if (!h || h.until <= now) return 0;
    return h.n >= MAX_FAILURES ? Math.ceil((h.until - now) / 1000) : 0;
  }
  fail(ip: string, now: number): void {
    const h = this.hits.get(ip);
    if (!h || h.until <= now) this.hits.set(ip, { n: 1, until: now + FAILURE_WINDOW_MS });
    else h.n++;
    if (this.hits.size > 100_000) for (const [k, v] of this.hits) if (v.until <= now) this.hits.delete(k);
  }
}

export function installAuth(app: FastifyInstance, cfg: FarmConfig["api"]["auth"]): void {
  const throttle = new FailureThrottle();
  const byHash = new Map(cfg.keys.map((k) => [k.sha256, { name: k.name, scopes: new Set(k.scopes) as ReadonlySet<Scope>, anonymous: false }]));
  app.decorateRequest("principal", null as unknown as Principal);
  app.addHook("onRequest", async (req) => {
    const routeCfg = req.routeOptions.config as { scope?: Scope | null } | undefined;
    const needed: Scope | null = routeCfg?.scope !== undefined ? routeCfg.scope : req.method === "GET" || req.method === "HEAD" ? "read" : "generate";
    if (!cfg.enabled) {
      req.principal = ANONYMOUS;
      return;
    }
    const key = extractKey(req);
    const principal = key ? byHash.get(hashKey(key)) : undefined;
    if (key && !principal) {
      const ip = req.ip ?? "unknown";
      const wait = throttle.check(ip, Date.now());
      if (wait > 0) {
        throw new FarmError("RATE_LIMITED", `too many failed authentications from this address; retry in ${wait} s`, {
          field: "authorization",
          constraint: `max_failures:${MAX_FAILURES}/60s`,
          retry_after_s: wait,
        });
      }
      throttle.fail(ip, Date.now());
    }
    if (principal) req.principal = principal;
    else if (needed === null || cfg.allow_anonymous) {
      req.principal = { name: "anonymous", scopes: new Set(["read", "generate"]), anonymous: true };
    }
    if (needed === null) {
      req.principal ??= { name: "anonymous", scopes: new Set(), anonymous: true };
      return;
    }
    if (!req.principal) {
      // On a WebSocket upgrade the browser's way (?api_key=) is named too: it cannot set headers.
      const how = isWebSocketUpgrade(req) ? "Authorization: Bearer <key>, X-API-Key or ?api_key=<key>" : "Authorization: Bearer <key> or X-API-Key";
      throw new FarmError("UNAUTHORIZED", key ? "unknown API key" : `missing API key: send ${how}`, {
        field: "authorization",
        constraint: "api_key",
      });
    }
    if (!req.principal.scopes.has(needed) && !req.principal.scopes.has("admin")) {
      throw new FarmError("FORBIDDEN", `API key '${req.principal.name}' lacks the '${needed}' scope`, {
        field: "authorization",
        constraint: `scope:${needed}`,
      });
    }
  });
}

/** Owners may see and cancel their own jobs; admins everything. With auth off, everyone is admin. */
export function canActOn(principal: Principal, owner: string | undefined): boolean {
  return principal.scopes.has("admin") || !owner || owner === principal.name;
}

/**
 * The job, when `principal` may act on it; otherwise the very error a missing job gets
 * (NOT_FOUND naming `job`), so another key cannot tell its job ids from made-up ones. Every
 * job route (get, cancel, WebSocket) goes through it: a 403 on one of them used to confirm
 * that the job existed.
 */
export async function ownedJob(farm: Pick<FarmClient, "get">, principal: Principal, id: string): Promise<JobRecord> {
  const job = await farm.get(id);
  if (!canActOn(principal, job.owner)) throw notFound("job", id);
  return job;
}
