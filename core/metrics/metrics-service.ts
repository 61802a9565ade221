/**
 * How /metrics reaches metrics kept in other processes: every API and coordinator process
 * runs a `farm-metrics` service whose `snapshot` action answers its metrics in
 * prom-client's JSON form; the API calls it on each node that offers it and merges the
 * answers (counters and histograms of the same series add up). Embedded mode takes the
 * same path inside one broker. Agents do not run it: a scrape must not cost a call per GPU box.
 */
import type Moleculer from "moleculer";
import type { ServiceSchema } from "moleculer";
import type { MetricObjectWithValues, MetricValue, Registry } from "prom-client";

type Broker = Moleculer.ServiceBroker;
export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

export const METRICS_SERVICE = "farm-metrics";
const ACTION = `${METRICS_SERVICE}.snapshot`;

export interface MetricsSource {
  snapshot(): Promise<MetricsJson>;
}

export const registrySource = (registry: Registry): MetricsSource => ({ snapshot: () => registry.getMetricsAsJSON() });

export function metricsService(sources: MetricsSource[]): ServiceSchema {
  return {
    name: METRICS_SERVICE,
    actions: {
      snapshot: async () => (await Promise.all(sources.map((s) => s.snapshot()))).flat(),
    },
  };
}

export interface RemoteMetrics {
  /** One metrics list per node that answered. */
  parts: MetricsJson[];
  /** node id -> answered (true) or not (false). */
  nodes: Record<string, boolean>;
}

/** Ask every node that runs the metrics service for its snapshot (in parallel); a node that fails is reported, not fatal. */
export async function collectRemoteMetrics(broker: Broker): Promise<RemoteMetrics> {
  // Moleculer 0.14's registry has this method; its typings do not declare it.
  const registry = broker.registry as unknown as { getActionEndpoints(action: string): { endpoints: { id: string; available?: boolean }[] } | undefined };
  const nodeIds = [...new Set((registry.getActionEndpoints(ACTION)?.endpoints ?? []).filter((e) => e.available !== false).map((e) => e.id))];
  const parts: MetricsJson[] = [];
  const nodes: Record<string, boolean> = {};
  await Promise.all(
    nodeIds.map(async (nodeID) => {
      try {
        parts.push((await broker.call(ACTION, {}, { nodeID })) as MetricsJson);
        nodes[nodeID] = true;
      } catch {
        nodes[nodeID] = false;
      }
    }),
  );
  return { parts, nodes };
}
