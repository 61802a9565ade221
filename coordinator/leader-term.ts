/**
 * One leadership term of a coordinator in HA mode (coordinator/leader-role.ts): the Redis
 * job store fenced by the term's epoch, the Coordinator recovering queued and running jobs
 * from it, its `coordinator` service on the mesh, webhook delivery and media retention.
 * Built when this process is elected, torn down when it is deposed; the next term (here or
 * in another process) starts from the store alone.
 */
import type { Service } from "moleculer";
import type { FarmConfig } from "../core/config/schema.ts";
import type { ArtifactStore } from "../core/artifact-store.ts";
import type { Logger } from "../core/logger.ts";
import type { JobRecord } from "../core/job.ts";
import { systemClock } from "../core/clock.ts";
import { ArtifactSweeper, retentionRules } from "../core/artifacts/retention.ts";
import type { Broker } from "../mesh/broker.ts";
import { announceServicesNow, coordinatorService, meshDispatcher, meshPublisher } from "../mesh/coordinator-service.ts";
import { natsMonitorLiveness } from "../mesh/node-liveness.ts";
import { Coordinator } from "./coordinator.ts";
import type { JobStore } from "./job-store.ts";
import { RedisJobStore } from "./stores/redis-store.ts";
import type { StoreFence } from "./stores/redis-fence.ts";
import { WebhookWorker } from "./webhooks/worker.ts";
import type { CoordinatorTerm } from "./leader-role.ts";

export interface TermDeps {
  config: FarmConfig;
  broker: Broker;
  artifacts: ArtifactStore;
  nodeId: string;
  logger: Logger;
  /** Wraps the raw store for the process's observers (metrics, webhooks): see mesh/roles.ts. */
  observe(raw: JobStore, webhooks: WebhookWorker): JobStore;
  /** The term's coordinator, for status sources (metrics). */
  onCoordinator?(c: Coordinator): void;
  /**
   * The public view of a job, the body webhooks POST (api/job-view.ts's toJobView): passed
   * in by the process that assembles the roles, so coordinator/ does not import api/.
   */
  view(job: JobRecord): unknown;
}

export function coordinatorTerm(deps: TermDeps, fence: StoreFence, epoch: number): CoordinatorTerm {
  const { config, broker } = deps;
  const logger = deps.logger.child({ role: "coordinator", epoch });
  const raw = new RedisJobStore({ url: config.redis.url, prefix: config.redis.prefix, fence });
  // Is a silent node's NATS connection still open (mesh/node-liveness.ts): for lost nodes and dispatches cut short.
  const liveness = natsMonitorLiveness({ urls: config.mesh.monitor_urls, selfName: deps.nodeId });
  const webhooks = new WebhookWorker({ store: raw, config, clock: systemClock, logger, view: deps.view });
  const coordinator = new Coordinator({
    store: deps.observe(raw, webhooks),
    clock: systemClock,
    config: config.coordinator,
    dispatcher: meshDispatcher(broker, { epoch: fence.epoch, liveness }),
    publish: meshPublisher(broker),
    logger,
    // Recovered running jobs that no agent holds are re-queued at the agent's first report under this epoch.
    leaderEpoch: epoch,
  });
  const sweeper = new ArtifactSweeper({
    store: deps.artifacts,
    clock: systemClock,
    logger,
    rules: retentionRules(config.artifacts.retention),
    intervalMs: config.artifacts.retention.sweep_interval_s * 1000,
  });
  let service: Service | undefined;
  const timers: NodeJS.Timeout[] = [];
  return {
    start: async () => {
      await coordinator.start();
      // Only now does this process serve `coordinator.*`: callers by name reach the leader.
      service = broker.createService(coordinatorService(coordinator, logger, liveness));
      // Announced now, not after Moleculer's 1 s debounce, and before the broadcast below:
      // agents then know the service when `coordinator.started` asks them to report to it.
      await announceServicesNow(broker, "coordinator", true);
      deps.onCoordinator?.(coordinator);
      webhooks.start().catch((err: unknown) => logger.error("webhook resume scan failed", { error: String(err) }));
      sweeper.start();
      // Agents answer with a heartbeat (renewing the leases this term recovered). Once more a
      // second later, in case an agent missed the INFO sent above (it then knows no service).
      const announce = () => void broker.broadcast("coordinator.started", { node_id: deps.nodeId, epoch }, "agent");
      announce();
      timers.push(setTimeout(announce, 1000));
      logger.info("coordinator term started", { epoch });
    },
    stop: async () => {
      for (const t of timers) clearTimeout(t);
      if (service) {
        await broker.destroyService(service).catch((err: unknown) => logger.warn("removing the coordinator service failed", { err: String(err) }));
        // Callers stop routing to this process now rather than a second later.
        await announceServicesNow(broker, "coordinator", false);
      }
      await coordinator.stop().catch(() => {});
      await webhooks.stop().catch(() => {});
      await sweeper.stop().catch(() => {});
      await raw.close().catch(() => {});
      logger.info("coordinator term ended", { epoch });
    },
  };
}
