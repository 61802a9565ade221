/**
 * Moleculer's local discoverer with two timing faults of its own fixed (measured in the
 * chaos bench, issue 15 item 4: agent-kill recovery outliers of 10-40 s, and a restarted
 * agent's first dispatch "rejected"):
 *
 * 1. When a node went silent. Moleculer 0.14 stamps heartbeats in whole seconds
 *    (`Math.round(process.uptime())`), calls a node dead only when that difference is
 *    *more* than `heartbeatTimeout`, and checks every `heartbeatTimeout` seconds: with the
 *    farm's 1 s / 2 s a kill was noticed 3-5.5 s after the last heartbeat, so a kill's
 *    recovery alone could pass the 5 s target. Here every packet from a node stamps it in
 *    milliseconds and the check runs every CHECK_MS: a node is silent `heartbeatTimeout`
 *    (+ at most CHECK_MS) after its last packet. The timeout itself is unchanged.
 *
 * 2. A node that restarted under the same node id (an agent restarted by its supervisor
 *    faster than the timeout). Its INFO replaces the old process's services, but Moleculer
 *    keeps the *old* process's last heartbeat time, so the timeout then fired on the new
 *    process: it was unregistered, and the dispatch just sent to it was rejected ("Request
 *    is rejected when call 'agent.startMany'"). Here the INFO itself is a sign of life.
 *    The coordinator learns that the old process's jobs are gone from the new process's
 *    heartbeat (coordinator/node-events.ts, `started_at` changed).
 *
 * 3. Silence while we ourselves are disconnected from NATS proves nothing about the others
 *    (nats-server restarting: every node looks silent at once). Moleculer declared them all
 *    gone, unregistering their services and rejecting calls in flight, and with the `nats`
 *    v2 client it never even learns of the outage (its transporter logs the client's status
 *    events and nothing more), so the API answered "Service 'coordinator.submitMany' is not
 *    available" for a while after NATS was back. Here the NATS client's own status events
 *    say when we are cut off: nothing is declared then, and after the reconnect every node
 *    gets a fresh `heartbeatTimeout` to be heard from.
 */
import Moleculer from "moleculer";

/** How often silence is checked. Small next to the 2 s timeout, cheap (a map scan per node). */
export const CHECK_MS = 250;

interface NodeLike {
  id: string;
  local: boolean;
  available: boolean;
}
/** The `nats` v2 connection's status stream (NatsConnection.status()). */
interface NatsStatusSource {
  status(): AsyncIterable<{ type: string }>;
}
/** The parts of Moleculer's internals this class uses (not in its typings). */
interface Internals {
  opts: { heartbeatTimeout: number; disableHeartbeatChecks?: boolean };
  registry: { nodes: { toArray(): NodeLike[]; disconnected(nodeID: string, isUnexpected: boolean): void } };
  transit?: { connected: boolean; tx?: { client?: unknown } };
}

export class FarmDiscoverer extends Moleculer.Discoverers.Local {
  /** node id -> Date.now() of the last packet (heartbeat or INFO) from it. */
  private readonly heardAt = new Map<string, number>();
  private wasConnected = true;
  /** The NATS client is between a disconnect and its reconnect. */
  private cutOff = false;
  private watched: unknown = null;
  private readonly now: () => number;

  constructor(opts?: Moleculer.DiscovererOptions, now: () => number = Date.now) {
    super(opts);
    this.now = now;
  }

  private get internals(): Internals {
    return this as unknown as Internals;
  }

  override startHeartbeatTimers(): void {
    super.startHeartbeatTimers();
    if (!this.checkNodesTimer) return; // heartbeats disabled
    clearInterval(this.checkNodesTimer);
    this.checkNodesTimer = setInterval(() => this.checkRemoteNodes(), CHECK_MS);
    this.checkNodesTimer.unref();
  }

  override heartbeatReceived(nodeID: string, payload: Record<string, unknown>): void {
    this.heardAt.set(nodeID, this.now());
    super.heartbeatReceived(nodeID, payload);
  }

  override processRemoteNodeInfo(nodeID: string, payload: Record<string, unknown>): Moleculer.BrokerNode {
    this.heardAt.set(nodeID, this.now());
    return super.processRemoteNodeInfo(nodeID, payload);
  }

  /** Follow a `nats` client's disconnects and reconnects (each client once; a new one after a broker restart). */
  watchNats(client: NatsStatusSource): void {
    this.watched = client;
    void (async () => {
      for await (const s of client.status()) {
        if (s.type === "disconnect") this.cutOff = true;
        else if (s.type === "reconnect") this.cutOff = false;
      }
    })().catch(() => {});
  }

  override checkRemoteNodes(): void {
    const { opts, registry, transit } = this.internals;
    if (opts.disableHeartbeatChecks) return;
    const client = transit?.tx?.client;
    if (client && client !== this.watched && typeof (client as Partial<NatsStatusSource>).status === "function") this.watchNats(client as NatsStatusSource);
    const now = this.now();
    const connected = transit?.connected !== false && !this.cutOff;
    if (!connected) {
      this.wasConnected = false;
      return;
    }
    const justReconnected = !this.wasConnected;
    this.wasConnected = true;
    const timeoutMs = opts.heartbeatTimeout * 1000;
    for (const node of registry.nodes.toArray()) {
      if (node.local || !node.available) continue;
      const last = this.heardAt.get(node.id);
      // Known without a stamp (listed before us), or we were cut off: count from now.
      if (last === undefined || justReconnected) {
        this.heardAt.set(node.id, now);
        continue;
      }
      if (now - last > timeoutMs) {
        this.heardAt.delete(node.id);
        registry.nodes.disconnected(node.id, true);
      }
    }
  }
}
