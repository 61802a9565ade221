/**
 * One place that builds a Moleculer broker from config. Distributed mode: NATS with the
 * Notepack (binary) serializer, short heartbeats so a dead node is noticed within ~5 s,
 * and a request timeout on every call (Moleculer's default of 0 waits forever).
 * Embedded mode: no transporter, every service local, same code paths.
 */
import os from "node:os";
import crypto from "node:crypto";
import Moleculer from "moleculer";
import type { FarmConfig } from "../core/config/schema.ts";
import { NATS_RECONNECT, natsSecurityOptions } from "./nats-options.ts";
import { FarmDiscoverer } from "./discoverer.ts";

export type Broker = Moleculer.ServiceBroker;

export function defaultNodeId(role: string): string {
  return `${os.hostname()}-${role}-${process.pid}-${crypto.randomBytes(2).toString("hex")}`;
}

/** `middlewares`: e.g. the metrics middleware (core/metrics/mesh-middleware.ts); they must be given at creation. */
export function createBroker(config: FarmConfig, nodeId: string, middlewares: Moleculer.Middleware[] = []): Broker {
  const distributed = config.mode === "distributed";
  return new Moleculer.ServiceBroker({
    namespace: config.mesh.namespace,
    nodeID: nodeId,
    transporter: distributed ? transporterFor(config.mesh, nodeId) : null,
    serializer: distributed ? "Notepack" : undefined,
    requestTimeout: config.mesh.request_timeout_ms,
    heartbeatInterval: config.mesh.heartbeat_interval_s,
    heartbeatTimeout: config.mesh.heartbeat_timeout_s,
    // Retries are the coordinator's business (job-level, fenced); a blind mesh retry could run a job twice.
    retryPolicy: { enabled: false },
    // A call to a known agent fails fast instead of queueing behind a dead connection.
    // FarmDiscoverer: millisecond heartbeat checks and restart-safe node tracking (discoverer.ts).
    registry: { strategy: "RoundRobin", preferLocal: true, discoverer: new FarmDiscoverer() },
    logger: config.log_level === "debug" ? { type: "Console", options: { level: "info" } } : false,
    // Metrics/tracing off: the hot path is a few calls per job.
    metrics: false,
    tracing: false,
    validator: false,
    // Moleculer's own SIGTERM/SIGINT handler stops the broker and exits at once, killing
    // running jobs. The launcher (cli/farm.ts) owns the signals: it drains the agent first.
    skipProcessEventRegistration: true,
    middlewares,
  });
}

/**
 * NATS connections carry the node id as their client name, so nats-server's monitoring
 * endpoint shows which nodes are still connected (node-liveness.ts), and the credentials
 * and TLS settings of `mesh.auth` / `mesh.tls` and its reconnect pace (nats-options.ts). Other transporter
 * strings go to Moleculer unchanged.
 */
function transporterFor(mesh: FarmConfig["mesh"], nodeId: string): string | { type: string; options: Record<string, unknown> } {
  const url = mesh.transporter;
  return /^(nats|tls):\/\//i.test(url) ? { type: "NATS", options: { url, name: nodeId, ...NATS_RECONNECT, ...natsSecurityOptions(mesh) } } : url;
}
