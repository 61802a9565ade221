/**
 * What one process of the farm contributes to /metrics, wired by mesh/roles.ts in a few
 * lines: the mesh middleware (failed calls, heartbeats), the coordinator's job metrics
 * (fed by its job store's writes), and the `farm-metrics` service the API scrapes over the
 * mesh. Agents take no part (see metrics-service.ts). With `metrics.enabled: false` nothing
 * is counted and no service is started.
 */
import type Moleculer from "moleculer";
import { Registry } from "prom-client";
import { CoordinatorMetrics, type StatusSource } from "./coordinator-metrics.ts";
import { MeshErrorCounter } from "./mesh-errors.ts";
import { meshMetricsMiddleware } from "./mesh-middleware.ts";
import { collectRemoteMetrics, metricsService, registrySource, type MetricsSource, type RemoteMetrics } from "./metrics-service.ts";
import type { JobStoreListener } from "./observed-store.ts";

export class ProcessMetrics {
  private readonly registry = new Registry();
  private readonly meshErrors: MeshErrorCounter | undefined;
  readonly coordinator: CoordinatorMetrics | undefined;
  private status: StatusSource | undefined;

  constructor(
    readonly enabled: boolean,
    roles: { api: boolean; coordinator: boolean },
  ) {
    const serving = enabled && (roles.api || roles.coordinator);
    this.meshErrors = serving ? new MeshErrorCounter(this.registry) : undefined;
    this.coordinator = enabled && roles.coordinator ? new CoordinatorMetrics({ status: () => this.statusOf() }) : undefined;
  }

  /** Broker middlewares (createBroker's third argument). */
  middlewares(): Moleculer.Middleware[] {
    if (!this.meshErrors) return [];
    const coord = this.coordinator;
    return [
      meshMetricsMiddleware({
        callFailed: (action, err) => this.meshErrors!.count(action, err),
        ...(coord ? { heartbeat: (r) => coord.heartbeat(r) } : {}),
      }),
    ];
  }

  /** What observes the coordinator's job store writes (none when metrics are off); see observed-store.ts. */
  storeListeners(): JobStoreListener[] {
    return this.coordinator ? [this.coordinator] : [];
  }

  /** Where the coordinator's gauges read queue depth, nodes and GPUs from (set once the coordinator exists). */
  setStatusSource(source: StatusSource): void {
    this.status = source;
  }

  /** Register the `farm-metrics` service on this process's broker. */
  startService(broker: Moleculer.ServiceBroker): void {
    if (!this.meshErrors) return;
    const sources: MetricsSource[] = [registrySource(this.registry)];
    if (this.coordinator) sources.push(this.coordinator);
    broker.createService(metricsService(sources));
  }

  /** For the API: every process's metrics over the mesh. */
  remote(broker: Moleculer.ServiceBroker): (() => Promise<RemoteMetrics>) | undefined {
    return this.enabled ? () => collectRemoteMetrics(broker) : undefined;
  }

  private statusOf() {
    if (!this.status) return Promise.reject(new Error("coordinator not started"));
    return this.status.status();
  }
}
