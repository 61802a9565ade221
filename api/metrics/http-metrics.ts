/**
 * The front door's own metrics: one histogram of request durations by route pattern
 * (`/api/v1/jobs/:job_id`, never the raw URL, so ids do not make a series each), method and
 * status; rate-limit rejections by route and group; and the Node process metrics of the
 * API process (CPU, memory, event-loop lag). Fed by one Fastify `onResponse` hook.
 */
import type { FastifyInstance } from "fastify";
import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export class ApiMetrics {
  readonly registry = new Registry();
  readonly http: Histogram<"method" | "route" | "status">;
  readonly rateLimited: Counter<"route" | "group">;

  constructor(opts: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.http = new Histogram({
      name: "farm_http_request_duration_seconds",
      help: "API requests by route pattern, method and status code",
      labelNames: ["method", "route", "status"],
      buckets: HTTP_BUCKETS,
      registers,
    });
    this.rateLimited = new Counter({
      name: "farm_rate_limit_rejections_total",
      help: "Requests refused with 429 by the rate limiter, by route pattern and rate group",
      labelNames: ["route", "group"],
      registers,
    });
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  install(app: FastifyInstance): void {
    app.addHook("onResponse", async (req, reply) => {
      // Unmatched URLs (404s, scanners) share one series instead of one per path tried.
      const route = req.routeOptions.url ?? "(unmatched)";
      const status = reply.statusCode;
      this.http.observe({ method: req.method, route, status: String(status) }, reply.elapsedTime / 1000);
      // The limiter's 429 leaves its quota header at 0; a 429 relayed from a provider does not.
      if (status === 429 && String(reply.getHeader("x-ratelimit-remaining")) === "0") {
        const group = (req.routeOptions.config as { rateGroup?: string } | undefined)?.rateGroup ?? "default";
        this.rateLimited.inc({ route, group });
      }
    });
  }
}
