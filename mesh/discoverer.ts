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
 *
 * 4. Calls in flight across that outage. A request or its reply published while either end
 *    was cut off is gone (core NATS keeps nothing), and the caller waited the full request
 *    timeout (10 s: measured, every NATS restart cost the API's next submit 10.9 s). Calls
 *    sent before our reconnect and still unanswered IN_FLIGHT_GRACE_MS after it (every
 *    peer reconnects within the client's reconnect wait of the same moment, and farm calls
 *    answer in milliseconds) are ended with SERVICE_UNAVAILABLE: the job-level retries
 *    (dispatch re-queue, report retry, the client's idempotent submit) take over. Moleculer
 *    did the same, less precisely, when it declared every node gone.
 *
 * 5. Calls sent after our reconnect to a peer that has not reconnected yet. Every client
 *    reconnects on its own schedule (reconnect wait + jitter), so for up to ~750 ms after
 *    ours a peer may still be cut off: a request published to it then reaches no subscriber
 *    and is dropped, and the caller again waited the full 10 s (measured with timestamps,
 *    scratch NATS restarts beside a job stream: 2 of 4 probes' submits timed out after
 *    10.0 s, coordinator.submitMany sent by the API before the coordinator was back; the
 *    other 2 were ended by 4. at 1.9 s; this was the chaos round's 11.6 s). So after our
 *    reconnect every peer is unconfirmed until its first packet; at that packet, calls to it
 *    still pending were sent while it may have been away, and those unanswered
 *    IN_FLIGHT_GRACE_MS later are ended the same way. Each process also sends a heartbeat the
 *    moment it reconnects, so its peers hear of it in milliseconds, not at its next beat.
 *
 * 6. Room between beats and the timeout. Moleculer picks each process's beat period once,
 *    at random in interval +/- 500 ms (0.5-1.5 s with the farm's 1 s), and sends each beat
 *    only after sampling the CPU twice 100 ms apart (three timers that slip on a loaded
 *    machine). Against the 2 s timeout, measured to the millisecond by 1., a slow-beating
 *    node had ~0.4 s of room, and a fresh agent was declared gone while the farm was
 *    starting on a loaded 2-core machine (mesh-silence e2e flake: its first dispatch
 *    "rejected", the job re-queued, possibly run twice). Here a beat is sent the moment its
 *    timer fires, every interval +/- 10 % (1.1 s at most: 0.9 s of room), and the CPU
 *    figure is refreshed after it for the next beat. The silence check itself runs after
 *    the loop has read its sockets: a stall of *our* loop delays the check's timer and the
 *    reading of the packets alike, and timers run first (Node's loop phases), so the check
 *    saw only the old packets and declared nodes gone whose beats sat unread.
 */
import Moleculer from "moleculer";
import { FarmError } from "../core/errors.ts";

/** How often silence is checked. Small next to the 2 s timeout, cheap (a map scan per node). */
export const CHECK_MS = 250;
/** After our NATS reconnect, how long calls sent before it may still be answered. */
export const IN_FLIGHT_GRACE_MS = 1000;
/** Our heartbeat period: the interval +/- 10 % (see 6. in the header). */
export const beatPeriodMs = (intervalS: number, random: () => number = Math.random): number => intervalS * 1000 * (0.9 + 0.2 * random());

interface NodeLike {
  id: string;
  local: boolean;
  available: boolean;
}
/** The `nats` v2 connection's status stream (NatsConnection.status()). */
interface NatsStatusSource {
  status(): AsyncIterable<{ type: string }>;
}
interface PendingRequest {
  action?: { name?: string };
  nodeID?: string;
  reject(err: unknown): void;
}
/** The parts of Moleculer's internals this class uses (not in its typings). */
interface Internals {
  opts: { heartbeatInterval: number; heartbeatTimeout: number; disableHeartbeatChecks?: boolean };
  registry: { nodes: { toArray(): NodeLike[]; disconnected(nodeID: string, isUnexpected: boolean): void } };
  transit?: {
    connected: boolean;
    tx?: { client?: unknown };
    pendingRequests?: Map<string, PendingRequest>;
  };
}

export class FarmDiscoverer extends Moleculer.Discoverers.Local {
  /** node id -> Date.now() of the last packet (heartbeat or INFO) from it. */
  private readonly heardAt = new Map<string, number>();
  private wasConnected = true;
  /** The NATS client is between a disconnect and its reconnect. */
  private cutOff = false;
  private watched: unknown = null;
  /** Peers not heard from since our last reconnect (5. in the header). */
  private readonly unconfirmed = new Set<string>();
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
    // Judged in setImmediate, after the event loop's poll phase: when our own loop was
    // stalled, the timer fires first and the packets that arrived meanwhile are still
    // unread in the socket (6. in the header).
    this.checkNodesTimer = setInterval(() => setImmediate(() => this.checkRemoteNodes()), CHECK_MS);
    this.checkNodesTimer.unref();
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = setInterval(() => void this.beat(), beatPeriodMs(this.internals.opts.heartbeatInterval));
    this.heartbeatTimer.unref();
  }

  /** Send at once; the CPU figure (two 100 ms samples) is refreshed after, for the next beat. */
  override beat(): Promise<void> {
    const sent = this.sendHeartbeat();
    const self = this as unknown as { localNode?: { updateLocalInfo(cpu: unknown): Promise<unknown> }; broker?: { getCpuUsage?: unknown } };
    self.localNode?.updateLocalInfo(self.broker?.getCpuUsage).catch(() => {});
    return sent;
  }

  override heartbeatReceived(nodeID: string, payload: Record<string, unknown>): void {
    this.heard(nodeID);
    super.heartbeatReceived(nodeID, payload);
  }

  override processRemoteNodeInfo(nodeID: string, payload: Record<string, unknown>): Moleculer.BrokerNode {
    this.heard(nodeID);
    return super.processRemoteNodeInfo(nodeID, payload);
  }

  private heard(nodeID: string): void {
    this.heardAt.set(nodeID, this.now());
    // First packet since our reconnect: the peer is connected now, but calls sent to it
    // before may have been dropped while it was still away (5. in the header).
    if (this.unconfirmed.delete(nodeID)) this.endCallsAfterGrace((req) => req.nodeID === nodeID, `node ${nodeID} was reconnecting to the mesh`);
  }

  /** Follow a `nats` client's disconnects and reconnects (each client once; a new one after a broker restart). */
  watchNats(client: NatsStatusSource): void {
    this.watched = client;
    void (async () => {
      for await (const s of client.status()) {
        if (s.type === "disconnect") {
          this.cutOff = true;
          // Also when no check runs before the reconnect (an outage under CHECK_MS): the first
          // check after it still gives every node a fresh timeout (3. in the header).
          this.wasConnected = false;
        } else if (s.type === "reconnect") {
          this.cutOff = false;
          this.endCallsAfterGrace(() => true, "the mesh connection was lost");
          for (const node of this.internals.registry.nodes.toArray()) if (!node.local && node.available) this.unconfirmed.add(node.id);
          // Tell the peers at once that we are back (they end what they sent us meanwhile).
          this.announce();
        }
      }
    })().catch(() => {});
  }

  private announce(): void {
    try {
      void Promise.resolve(this.sendHeartbeat()).catch(() => {});
    } catch {
      // Not started (no transit yet): the regular beat will do.
    }
  }

  /** See 4. and 5. in the header: calls pending now (those `which` picks) and still unanswered after the grace are ended. */
  private endCallsAfterGrace(which: (req: PendingRequest) => boolean, why: string): void {
    const pending = this.internals.transit?.pendingRequests;
    if (!pending || pending.size === 0) return;
    const before = new Set([...pending].filter(([, req]) => which(req)).map(([id]) => id));
    if (before.size === 0) return;
    setTimeout(() => {
      for (const id of before) {
        const req = pending.get(id);
        if (!req) continue;
        pending.delete(id);
        const what = `${req.action?.name ?? "a call"} on node ${req.nodeID ?? "?"}`;
        req.reject(
          new FarmError("SERVICE_UNAVAILABLE", `${why} while ${what} was in flight: it may or may not have run; try again`, {
            constraint: "mesh_reconnected",
          }),
        );
      }
    }, IN_FLIGHT_GRACE_MS).unref();
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
        this.unconfirmed.delete(node.id);
        registry.nodes.disconnected(node.id, true);
      }
    }
  }
}
