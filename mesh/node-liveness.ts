/**
 * Telling a dead agent from a silent one. Moleculer reports a node "disconnected" when
 * its heartbeats stop, which is the same for three very different events:
 *   - the agent process died (SIGKILL, crash, OOM): its jobs must run elsewhere, soon;
 *   - the agent is stalled (SIGSTOP, swap storm, a long synchronous step) and will resume
 *     with its jobs still running;
 *   - the mesh itself blipped (nats-server restarted): every node looks silent at once.
 * Re-queueing on the last two ran GPU work twice (issue 17 items 6-7). What differs is the
 * agent's TCP connection to NATS: the kernel closes it the moment the process dies, while
 * a stalled process keeps it open. nats-server's monitoring endpoint (`/connz`) lists the
 * open connections by client name, and every broker names its connection after its node
 * id (broker.ts), so the coordinator can ask "is agent-2 still connected?":
 *   - listed            -> "connected": stalled or busy; its leases decide;
 *   - not listed        -> "gone": re-queue now (failover stays within the heartbeat timeout);
 *   - cannot tell       -> "unknown": monitor unreachable (NATS down), no monitor configured,
 *     our own connection is not listed (we are not connected to what we monitor), or a
 *     server started less than `settleMs` ago (it was restarted: clients are still coming
 *     back, each after its own reconnect wait, so an absence proves nothing yet), unless
 *     that server lists the node among its *closed* connections (`/connz?state=closed`):
 *     then it had come back (or first connected) there and its connection ended, which is
 *     a death like any other. Without this a kill in the first 10 s of a farm (or of a NATS
 *     restart) waited for the lease expiry (measured in the chaos bench: 10.1 s).
 * The server's start time, not our connection's: a coordinator that just started (or just
 * reconnected to a server that kept running) still learns the truth about the others.
 */

export type Liveness = "connected" | "gone" | "unknown";
export type LivenessProbe = (nodeId: string) => Promise<Liveness>;

interface Connz {
  now?: string;
  total?: number;
  connections?: { name?: string; start?: string; stop?: string }[];
}
interface Varz {
  now?: string;
  start?: string;
}

export interface NatsMonitorOptions {
  /** nats-server monitoring base URLs (`-m` port), one per server of the cluster. */
  urls: readonly string[];
  /** This process's connection name (its node id). */
  selfName: string;
  /** How long a server must have been up before an absence from its list means death. Default 10 s. */
  settleMs?: number;
  /** Per request. Default 1 s. */
  timeoutMs?: number;
  fetchFn?: typeof fetch;
}

/** Over a NATS cluster a client is connected to one server: the union of every server's list is the truth. */
export function natsMonitorLiveness(o: NatsMonitorOptions): LivenessProbe {
  const settleMs = o.settleMs ?? 10_000;
  const timeoutMs = o.timeoutMs ?? 1000;
  const fetchFn = o.fetchFn ?? fetch;
  if (o.urls.length === 0) return async () => "unknown";
  const get = async <T>(base: string, what: string): Promise<T> => {
    const res = await fetchFn(`${base.replace(/\/+$/, "")}/${what}`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return (await res.json()) as T;
  };
  // A high limit: the default page is 1024 connections and an absence on page 2 is not death.
  const server = async (base: string) => Promise.all([get<Connz>(base, "connz?limit=100000"), get<Varz>(base, "varz")]);
  return async (nodeId) => {
    let servers: [Connz, Varz][];
    try {
      servers = await Promise.all(o.urls.map(server));
    } catch {
      return "unknown";
    }
    let selfSeen = false;
    const young: string[] = [];
    for (const [k, [connz, varz]] of servers.entries()) {
      if ((connz.connections?.length ?? 0) < (connz.total ?? 0)) return "unknown"; // a truncated list proves nothing
      for (const c of connz.connections ?? []) {
        if (c.name === nodeId) return "connected";
        if (c.name === o.selfName) selfSeen = true;
      }
      const up = (Date.parse(varz.now ?? "") || Date.now()) - Date.parse(varz.start ?? "");
      if (!Number.isFinite(up)) return "unknown";
      if (up < settleMs) young.push(o.urls[k]!);
    }
    if (!selfSeen) return "unknown";
    if (young.length === 0) return "gone";
    // A young server: gone only if one of them saw this node's connection close.
    try {
      const closed = await Promise.all(young.map((base) => get<Connz>(base, "connz?state=closed&limit=100000")));
      return closed.some((c) => (c.connections ?? []).some((x) => x.name === nodeId)) ? "gone" : "unknown";
    } catch {
      return "unknown";
    }
  };
}
