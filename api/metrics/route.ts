/**
 * GET /metrics in the Prometheus text format: this API process's metrics (http-metrics.ts)
 * merged with what the coordinator and the other API processes hold (fetched over the mesh,
 * core/metrics/metrics-service.ts). Same keys as the API: with auth on it needs the `read`
 * scope (a read key already sees nodes, GPUs and queue counts in /farm/status), so
 * Prometheus gets a read-only key of its own, sent as a bearer token.
 */
import type { FastifyInstance } from "fastify";
import { AggregatorRegistry, Gauge, Registry } from "prom-client";
import type { MetricsJson, RemoteMetrics } from "../../core/metrics/metrics-service.ts";
import type { ApiMetrics } from "./http-metrics.ts";
import { errorResponses } from "../schemas/common.ts";

export async function metricsRoute(app: FastifyInstance, local: ApiMetrics, remote?: () => Promise<RemoteMetrics>): Promise<void> {
  app.get(
    "/metrics",
    {
      config: { scope: "read" },
      schema: {
        tags: ["farm"],
        summary: "Prometheus metrics (text exposition format 0.0.4)",
        description: "Jobs, queues, run and wait times, GPUs, models, HTTP requests, rate limits and mesh errors; see README 'Operating the farm: Metrics'.",
        produces: ["text/plain"],
        response: { 200: { type: "string" }, ...errorResponses },
      },
    },
    async (_req, reply) => {
      const parts: MetricsJson[] = [await local.registry.getMetricsAsJSON()];
      if (remote) {
        const r = await remote();
        parts.push(...r.parts, await sourcesUp(r.nodes));
      }
      const merged = AggregatorRegistry.aggregate(parts);
      reply.type(merged.contentType);
      return merged.metrics();
    },
  );
}

/** Which processes answered this scrape: a missing coordinator shows as 0, not as silently absent series. */
async function sourcesUp(nodes: Record<string, boolean>): Promise<MetricsJson> {
  const registry = new Registry();
  const g = new Gauge({
    name: "farm_metrics_source_up",
    help: "1 when that API or coordinator process answered this scrape over the mesh",
    labelNames: ["node"],
    registers: [registry],
  });
  for (const [node, ok] of Object.entries(nodes)) g.set({ node }, ok ? 1 : 0);
  return registry.getMetricsAsJSON();
}
