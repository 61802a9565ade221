/**
 * Rate limits per the spec's table, per client (API key name, else IP), grouped by
 * route family. Counters live in Redis in distributed mode (shared by every API
 * process) and in memory in embedded mode. 429 RATE_LIMITED with Retry-After.
 */
import type { FastifyInstance } from "fastify";
import rateLimit from "@fastify/rate-limit";
import type { Redis } from "ioredis";
import { FarmError } from "../core/errors.ts";
import type { FarmConfig } from "../core/config/schema.ts";

export type RateGroup = "enhance" | "generate_image" | "video" | "suno" | "default";

export function groupLimit(cfg: FarmConfig["api"]["rate_limits"], group: string | undefined): number {
  switch (group) {
    case "enhance":
      return cfg.enhance;
    case "generate_image":
      return cfg.generate_image;
    case "video":
      return cfg.video;
    case "suno":
      return cfg.suno;
    default:
      return cfg.default;
  }
}

export async function installRateLimit(app: FastifyInstance, cfg: FarmConfig["api"]["rate_limits"], redis?: Redis, prefix = "nb:"): Promise<void> {
  if (!cfg.enabled) return;
  // Registered before any route is declared, or the limits silently do not apply.
  await app.register(rateLimit, {
    global: true,
    timeWindow: cfg.window_s * 1000,
    max: (req) => groupLimit(cfg, (req.routeOptions.config as { rateGroup?: string } | undefined)?.rateGroup),
    keyGenerator: (req) => {
      const group = (req.routeOptions.config as { rateGroup?: string } | undefined)?.rateGroup ?? "default";
      const who = req.principal && !req.principal.anonymous ? `key:${req.principal.name}` : `ip:${req.ip ?? "inject"}`;
      return `${group}:${who}`;
    },
    ...(redis ? { redis, nameSpace: `${prefix}rl:` } : {}),
    skipOnError: false,
    errorResponseBuilder: (_req, ctx) => {
      const retry = Math.max(1, Math.ceil(ctx.ttl / 1000));
      const e = new FarmError("RATE_LIMITED", `rate limit of ${ctx.max} requests per ${cfg.window_s} s exceeded; retry in ${retry} s`, {
        field: "client",
        constraint: `max:${ctx.max}/${cfg.window_s}s`,
        retry_after_s: retry,
      });
      // @fastify/rate-limit throws what this returns; the error handler turns it into the envelope.
      return Object.assign(e, { statusCode: 429 });
    },
  });
}
