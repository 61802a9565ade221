/**
 * CORS for browser apps on other origins (`api.cors`, off by default).
 *
 * Off (no origins) the API sends no CORS headers at all, so browsers keep their same-origin
 * rule. With origins listed, a request whose Origin is one of them (or any, with "*") gets
 * Access-Control-Allow-Origin naming that origin, and a preflight (OPTIONS with
 * Access-Control-Request-Method) is answered 204 here, before auth: browsers never send
 * credentials on a preflight, so authenticating it would refuse every cross-origin call.
 * The real request that follows is authenticated as usual.
 *
 * Written by hand rather than with @fastify/cors: the policy is one list of origins, and
 * these few lines keep its behaviour (no reflection of unlisted origins) easy to audit.
 */
import type { FastifyInstance } from "fastify";
import type { FarmConfig } from "../core/config/schema.ts";

type CorsConfig = FarmConfig["api"]["cors"];

/** Request headers a browser client of this API sends (auth, idempotency, async preference). */
const ALLOWED_HEADERS = "authorization, content-type, x-api-key, idempotency-key, prefer";
/** Response headers a browser script may read (retry hints and pagination live in headers). */
const EXPOSED_HEADERS = "retry-after, x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-reset, content-range";
const METHODS = "GET, POST, DELETE, OPTIONS";

export function installCors(app: FastifyInstance, cfg: CorsConfig): void {
  if (cfg.origins.length === 0) return;
  const any = cfg.origins.includes("*");
  const allowed = new Set(cfg.origins.map((o) => o.toLowerCase()));
  app.addHook("onRequest", async (req, reply) => {
    const origin = req.headers.origin;
    if (typeof origin !== "string" || !(any || allowed.has(origin.toLowerCase()))) return;
    // The answer depends on Origin, so shared caches must key on it.
    reply.header("vary", "Origin");
    reply.header("access-control-allow-origin", any && !cfg.credentials ? "*" : origin);
    if (cfg.credentials) reply.header("access-control-allow-credentials", "true");
    reply.header("access-control-expose-headers", EXPOSED_HEADERS);
    if (req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined) {
      reply.header("access-control-allow-methods", METHODS);
      reply.header("access-control-allow-headers", ALLOWED_HEADERS);
      reply.header("access-control-max-age", String(cfg.max_age_s));
      return reply.code(204).send();
    }
  });
}
