/**
 * Starts any set of roles (api, coordinator, agent) on one broker. Embedded mode is all
 * three in one process without a transporter; distributed mode runs each role (or any
 * mix) as its own process over NATS. Same code either way: only the backends differ
 * (Redis vs the embedded journal, S3 vs a folder).
 */
import type { FastifyInstance } from "fastify";
import { Redis } from "ioredis";
import type { FarmConfig } from "../core/config/schema.ts";
import type { ArtifactStore } from "../core/artifact-store.ts";
import { createLogger, type Logger } from "../core/logger.ts";
import { ArtifactSweeper, retentionRules } from "../core/artifacts/retention.ts";
import { assertRedisDurable, RedisLossWatcher } from "../coordinator/stores/redis-durability.ts";
import { systemClock } from "../core/clock.ts";
import { openArtifactStore } from "../core/artifacts/index.ts";
import { createBroker, defaultNodeId, type Broker } from "./broker.ts";
import { meshHasCredentials } from "./nats-options.ts";
import { coordinatorService, meshDispatcher, meshPublisher } from "./coordinator-service.ts";
import { agentService, meshReporter } from "./agent-service.ts";
import { natsMonitorLiveness } from "./node-liveness.ts";
import { MeshFarmClient, apiEventService } from "./api-service.ts";
import { Coordinator } from "../coordinator/coordinator.ts";
import type { JobStore } from "../coordinator/job-store.ts";
import { EmbeddedJobStore } from "../coordinator/stores/embedded-store.ts";
import { RedisJobStore } from "../coordinator/stores/redis-store.ts";
import { Agent } from "../node-agent/agent.ts";
import { loadPlugins } from "../node-agent/plugin-loader.ts";
import { resolveGpuProbe } from "../node-agent/gpu-probe.ts";
import { buildApi } from "../api/server.ts";
import { checkBindSafety } from "../api/auth.ts";
import { EmbeddedCharacterStore, RedisCharacterStore, type CharacterStore } from "../core/characters/index.ts";
import { ProcessMetrics } from "../core/metrics/process-metrics.ts";
import { observeJobStore } from "../core/metrics/observed-store.ts";
import { WebhookWorker } from "../coordinator/webhooks/worker.ts";
import { startLeaderRole, type LeaderRole } from "../coordinator/leader-role.ts";
import { coordinatorTerm } from "../coordinator/leader-term.ts";
import { toJobView } from "../api/job-view.ts";
import { createOutputLinks } from "../api/output-links.ts";

export const ROLES = ["api", "coordinator", "agent"] as const;
export type Role = (typeof ROLES)[number];

export interface FarmHandle {
  config: FarmConfig;
  nodeId: string;
  broker: Broker;
  artifacts: ArtifactStore;
  coordinator?: Coordinator;
  agent?: Agent;
  app?: FastifyInstance;
  /** http://host:port of the API when the api role runs. */
  url?: string;
  /** Drain the agent (if any), then stop every role. */
  stop(opts?: { drainMs?: number }): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  nodeId?: string;
  pluginsDir?: string;
  /** Skip app.listen (tests that use inject). */
  listen?: boolean;
}

export async function startFarm(config: FarmConfig, roles: readonly Role[], opts: StartOptions = {}): Promise<FarmHandle> {
  const nodeId = opts.nodeId ?? config.node_id ?? defaultNodeId(roles.length === 3 ? "farm" : roles.join("+"));
  // The node id on every line: with many agents writing to one log collector it says which.
  const logger = opts.logger ?? createLogger(config.log_level, { node: nodeId, roles: roles.join("+") });
  const has = (r: Role) => roles.includes(r);
  if (has("api")) checkBindSafety(config.api);
  const distributed = config.mode === "distributed";
  // Prometheus metrics of this process (core/metrics): mesh middleware, observed job store, scrape service.
  const metrics = new ProcessMetrics(config.metrics?.enabled !== false, { api: has("api"), coordinator: has("coordinator") });
  const broker = createBroker(config, nodeId, metrics.middlewares());
  if (distributed && !meshHasCredentials(config.mesh)) {
    logger.warn(
      "the mesh has no credentials (mesh.auth): anything that reaches NATS can read every job and join as an agent; see deploy/README.md, 'Locked mesh'",
    );
  }
  const artifacts = await openArtifactStore(config);
  const closers: (() => Promise<unknown>)[] = [];

  let coordinator: Coordinator | undefined;
  /** HA: the coordinator of this process's latest leader term (coordinator/leader-term.ts). */
  let termCoordinator: Coordinator | undefined;
  let store: JobStore | undefined;
  let webhooks: WebhookWorker | undefined;
  if (has("coordinator") && distributed) {
    // Refuse a Redis that would lose every job on restart, and report one that lost them anyway.
    const redis = new Redis(config.redis.url, { maxRetriesPerRequest: 2 });
    try {
      await assertRedisDurable(redis, { url: config.redis.url, requireAof: config.redis.require_aof, logger });
    } catch (err) {
      redis.disconnect();
      throw err;
    }
    // On a loss, the jobs the coordinator still holds in memory are reconciled with what is
    // left (coordinator/reconcile.ts): this process's only coordinator, or its current HA term's.
    const onLoss = () =>
      void (coordinator ?? termCoordinator)
        ?.reconcile()
        .catch((err: unknown) => logger.error("reconciling after the store's data loss failed", { err: String(err) }));
    const watcher = new RedisLossWatcher(redis, config.redis.prefix, logger.child({ role: "coordinator" }), onLoss);
    await watcher.start(5000);
    closers.push(async () => {
      watcher.stop();
      await redis.quit();
    });
  }
  // HA (distributed mode): the coordinator runs only while this process holds the leader
  // lease (coordinator/leader-role.ts); it is built after the broker starts, once elected.
  const leaderHa = has("coordinator") && distributed && config.coordinator.leader.enabled;
  // A webhook body is the job as GET shows it, output paths signed the same way, so the
  // receiver can fetch them (with keys on a bare path is served to admin keys only).
  const links = createOutputLinks(config.api);
  const webhookView = (job: Parameters<typeof toJobView>[0]) => links.signAll(toJobView(job));
  if (has("coordinator") && !leaderHa) {
    const raw: JobStore = distributed
      ? new RedisJobStore({ url: config.redis.url, prefix: config.redis.prefix })
      : await EmbeddedJobStore.open({ dir: config.paths.state });
    store = raw;
    // Signed webhooks are the coordinator's to deliver (coordinator/webhooks), fed like the metrics by the store's writes.
    webhooks = new WebhookWorker({ store: raw, config, clock: systemClock, logger: logger.child({ role: "coordinator" }), view: webhookView });
    const jobs = observeJobStore(raw, [...metrics.storeListeners(), webhooks]);
    const monitors = config.mesh.monitor_urls;
    const liveness = natsMonitorLiveness({ urls: monitors, selfName: nodeId });
    coordinator = new Coordinator({
      store: jobs,
      clock: systemClock,
      config: config.coordinator,
      dispatcher: meshDispatcher(broker, { liveness }),
      publish: meshPublisher(broker),
      logger: logger.child({ role: "coordinator" }),
    });
    if (config.mode === "distributed" && monitors.length === 0) {
      logger.warn(
        "mesh.monitor_urls is empty: a dead agent cannot be told from a stalled one, so a silent agent's jobs are re-queued only when their leases expire (coordinator.lease_ms)",
      );
    }
    broker.createService(coordinatorService(coordinator, logger, liveness));
    metrics.setStatusSource(coordinator);
  }

  let agent: Agent | undefined;
  if (has("agent")) {
    const plugins = await loadPlugins(config, { pluginsDir: opts.pluginsDir, logger });
    for (const d of plugins.disabled()) logger.warn("plugin disabled", d);
    for (const m of plugins.unavailableModels()) logger.info("model not available (weights missing)", { ...m });
    let self: Agent | undefined;
    agent = new Agent({
      nodeId,
      config,
      plugins,
      probe: resolveGpuProbe(config.agent, { logger }),
      artifacts,
      reporter: meshReporter(broker, logger, {
        onStale: (jobId, token) => void self?.cancelTask(jobId, token),
        onLeaderEpoch: (epoch) => self?.noteLeaderEpoch(epoch),
      }),
      clock: systemClock,
      logger: logger.child({ role: "agent" }),
    });
    self = agent;
    broker.createService(agentService(agent));
  }

  let app: FastifyInstance | undefined;
  let url: string | undefined;
  if (has("api")) {
    const client = new MeshFarmClient(broker);
    broker.createService(apiEventService(client, logger.child({ role: "api" })));
    const redis = distributed ? new Redis(config.redis.url, { maxRetriesPerRequest: 2, enableOfflineQueue: true }) : undefined;
    if (redis) closers.push(() => redis.quit());
    const characters: CharacterStore = distributed
      ? new RedisCharacterStore(config.redis.url, { prefix: config.redis.prefix })
      : new EmbeddedCharacterStore(config.paths.state);
    closers.push(async () => characters.close?.());
    const meshConnected = distributed ? () => broker.transit?.connected === true : undefined;
    app = await buildApi({
      config,
      farm: client,
      artifacts,
      logger: logger.child({ role: "api" }),
      redis,
      characters,
      meshConnected,
      remoteMetrics: metrics.remote(broker),
    });
  }

  metrics.startService(broker);
  await broker.start();
  let leaderRole: LeaderRole | undefined;
  if (leaderHa) {
    const leader = config.coordinator.leader;
    leaderRole = startLeaderRole({
      redisUrl: config.redis.url,
      prefix: config.redis.prefix,
      nodeId,
      leaseMs: leader.lease_ms,
      renewMs: leader.renew_ms,
      logger: logger.child({ role: "coordinator" }),
      newTerm: async (fence, epoch) =>
        coordinatorTerm(
          {
            config,
            broker,
            artifacts,
            nodeId,
            logger,
            observe: (raw, w) => observeJobStore(raw, [...metrics.storeListeners(), w]),
            onCoordinator: (c) => {
              metrics.setStatusSource(c);
              termCoordinator = c;
            },
            view: webhookView,
          },
          fence,
          epoch,
        ),
    });
  }
  if (coordinator) {
    await coordinator.start();
    // Not awaited: the scan for deliveries still owed reads finished jobs and must not hold up the start.
    webhooks?.start().catch((err: unknown) => logger.error("webhook resume scan failed", { error: String(err) }));
    void broker.broadcast("coordinator.started", { node_id: nodeId }, "agent");
    // Media retention runs beside the job store's own purge, once per farm.
    const sweeper = new ArtifactSweeper({
      store: artifacts,
      clock: systemClock,
      logger: logger.child({ role: "coordinator" }),
      rules: retentionRules(config.artifacts.retention),
      intervalMs: config.artifacts.retention.sweep_interval_s * 1000,
    });
    sweeper.start();
    closers.unshift(() => sweeper.stop());
  }
  if (agent) await agent.start();
  if (app && opts.listen !== false) {
    await app.listen({ host: config.api.host, port: config.api.port });
    const addr = app.server.address();
    const port = typeof addr === "object" && addr ? addr.port : config.api.port;
    const host = config.api.host.includes(":") ? `[${config.api.host}]` : config.api.host;
    url = `http://${host}:${port}`;
    logger.info("API listening", { url, docs: `${url}/docs` });
  }

  let stopped = false;
  return {
    config,
    nodeId,
    broker,
    artifacts,
    coordinator,
    agent,
    app,
    url,
    stop: async ({ drainMs } = {}) => {
      if (stopped) return;
      stopped = true;
      if (agent) {
        await agent.drain(drainMs ?? config.agent.drain_timeout_ms).catch((err: unknown) => logger.warn("drain failed", { err: String(err) }));
      }
      if (app) await app.close().catch(() => {});
      if (agent) await agent.stop().catch(() => {});
      if (leaderRole) await leaderRole.stop().catch(() => {});
      if (coordinator) await coordinator.stop().catch(() => {});
      if (webhooks) await webhooks.stop().catch(() => {});
      await broker.stop().catch(() => {});
      if (store) await store.close().catch(() => {});
      for (const c of closers) await c().catch(() => {});
      await artifacts.close?.().catch(() => {});
    },
  };
}
