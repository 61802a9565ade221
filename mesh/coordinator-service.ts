/**
 * The coordinator role on the mesh: a thin Moleculer service around the transport-free
 * Coordinator class. An agent that leaves the mesh cleanly, or whose NATS connection is
 * gone (its process died), has its jobs re-queued at once; one that only went silent
 * (stalled, or NATS restarted under everyone) keeps its jobs until their leases expire,
 * and renews them when it comes back (node-liveness.ts).
 */
import type { ServiceSchema, Context } from "moleculer";
import type { Broker } from "./broker.ts";
import type { Coordinator } from "../coordinator/coordinator.ts";
import type { HeartbeatReport, ProgressReport } from "../coordinator/coordinator-types.ts";
import { fromSender } from "../coordinator/result-guard.ts";
import type { AgentReport, DispatchTask, Dispatcher } from "../core/mesh-contract.ts";
import type { JobEvent, SubmitJobInput } from "../core/job.ts";
import { FarmError } from "../core/errors.ts";
import { TickBatcher, TickQueue, settleBatch, type BatchReply } from "./tick-batch.ts";
import type { Logger } from "../core/logger.ts";
import type { LivenessProbe } from "./node-liveness.ts";

/** How long a dispatch rejected in flight waits for an agent that NATS does not call gone. */
export const STALLED_WAIT_MS = 10_000;

/**
 * One `agent.startMany` call, sent once more when it reached nobody or the node went silent.
 *
 * Just after an agent starts, its heartbeat can reach the coordinator before the mesh has
 * registered its service there: a dispatch then fails with SERVICE_NOT_FOUND, having reached
 * nobody, and the job went back to the queue (a needless re-dispatch in its history). Such a
 * call is safe to repeat, so wait briefly for the agent's action to be registered and send
 * it once more; any other failure, or no registration in time, is the caller's to handle.
 *
 * The same applies to a call the mesh rejected because the node went silent while it was in
 * flight (REQUEST_REJECTED: a stall, or a death). Whether the agent took the tasks is then
 * unknown, and re-queuing a job it runs runs it twice. Unless its NATS connection is gone
 * (it died: fail now, the job is re-queued), wait for it to be heard from again and send
 * the same tasks once more: an agent accepts a redelivery of a task it already runs (same
 * token) without running it again (Agent.startTask). Unless NATS says it is gone, the wait
 * is STALLED_WAIT_MS (a registration's 3 s was shorter than a loaded agent's stall), with
 * NATS asked again each second.
 */
async function startMany(broker: Broker, nodeId: string, items: DispatchTask[], waitMs: number, liveness?: LivenessProbe): Promise<BatchReply<unknown>[]> {
  // Moleculer 0.14's registry has this method; its typings do not declare it.
  const registry = broker.registry as unknown as { getActionEndpointByNodeId(action: string, nodeID: string): unknown };
  try {
    return await broker.call<BatchReply<unknown>[], { items: DispatchTask[] }>("agent.startMany", { items }, { nodeID: nodeId });
  } catch (err) {
    const type = (err as { type?: unknown }).type;
    let deadline = Date.now() + waitMs;
    let ask: LivenessProbe | undefined;
    if (type === "REQUEST_REJECTED" && liveness) {
      const l = await liveness(nodeId);
      if (l === "gone") throw err;
      // Connected, only silent (or NATS cannot tell yet: a server up under 10 s, as on a
      // fresh farm): a stalled agent is heard again once it runs (its next beat, then its
      // INFO), which can take longer than a registration; its leases would keep its running
      // jobs far longer still (node-events: suspect). Asked again each second, so a death
      // seen meanwhile ends the wait.
      deadline = Date.now() + Math.max(waitMs, STALLED_WAIT_MS);
      ask = liveness;
    } else if (type !== "SERVICE_NOT_FOUND") throw err;
    let askAt = Date.now() + 1000;
    while (!registry.getActionEndpointByNodeId("agent.startMany", nodeId)) {
      if (Date.now() >= deadline) throw err;
      if (ask && Date.now() >= askAt) {
        if ((await ask(nodeId)) === "gone") throw err;
        askAt = Date.now() + 1000;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    return broker.call<BatchReply<unknown>[], { items: DispatchTask[] }>("agent.startMany", { items }, { nodeID: nodeId });
  }
}

/**
 * Dispatcher over the mesh: calls go to one agent by node id, with the mesh's request
 * timeout. Starts for the same agent within one turn travel as one `agent.startMany`.
 *
 * `registrationWaitMs`: how long a dispatch waits for an agent's service announcement (3 s:
 * measured here, Moleculer registers a new node's services up to ~1 s after it is heard from).
 *
 * `epoch` (coordinator HA): the leader epoch the dispatch is sent under; every task carries
 * it, and a coordinator that no longer leads (null) sends nothing: its lease grants were
 * already refused by the store's fence, this also stops a start decided just before.
 */
export function meshDispatcher(broker: Broker, opts: { registrationWaitMs?: number; epoch?: () => number | null; liveness?: LivenessProbe } = {}): Dispatcher {
  const waitMs = opts.registrationWaitMs ?? 3000;
  const epochOf = opts.epoch;
  // One batcher per agent ever dispatched to: a handful of entries, even for a big farm.
  const starters = new Map<string, TickBatcher<DispatchTask, unknown>>();
  const starter = (nodeId: string) => {
    let b = starters.get(nodeId);
    if (!b) starters.set(nodeId, (b = new TickBatcher((items) => startMany(broker, nodeId, items, waitMs, opts.liveness))));
    return b;
  };
  return {
    startTask: async (nodeId: string, task: DispatchTask) => {
      if (!epochOf) return void (await starter(nodeId).add(task));
      const epoch = epochOf();
      if (epoch === null)
        throw new FarmError("SERVICE_UNAVAILABLE", "this coordinator no longer leads: dispatch not sent", { field: "epoch", constraint: "leader" });
      await starter(nodeId).add({ ...task, epoch });
    },
    cancelTask: async (nodeId: string, jobId: string, token: number) => {
      await broker.call("agent.cancel", { job_id: jobId, token }, { nodeID: nodeId });
    },
  };
}

/** The parts of Moleculer 0.14's broker used to announce a service change now (not in its typings). */
interface AnnouncingBroker {
  registry: { services: { has(fullName: string, nodeID: string): boolean } };
  localServiceChanged: { flush?: () => void };
}

/**
 * Sends this node's service list (its INFO packet) to the mesh now, once the local registry
 * shows service `name` registered (`present`) or gone. Moleculer 0.14 debounces that packet
 * by 1 s (ServiceBroker's `localServiceChanged`, a lodash debounce): a coordinator elected
 * mid-run was unreachable by name for that second ("Service 'coordinator.submitMany' is not
 * available", measured in the chaos bench), and its `coordinator.started` broadcast reached
 * agents before they knew its service, so their answering heartbeat found nobody. Flushing
 * the debounce sends the INFO ahead of anything published after this returns (one NATS
 * connection keeps a publisher's order). A service started with `createService` on a running
 * broker is registered only after its async start: wait for that first (`timeoutMs`).
 */
export async function announceServicesNow(broker: Broker, name: string, present: boolean, timeoutMs = 2000): Promise<void> {
  const b = broker as unknown as AnnouncingBroker;
  const deadline = Date.now() + timeoutMs;
  while (b.registry.services.has(name, broker.nodeID) !== present && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  b.localServiceChanged.flush?.();
}

/**
 * Job events go to every API process (each holds its own WebSocket clients and waiters),
 * gathered per turn into one `job.events` broadcast.
 */
export function meshPublisher(broker: Broker): (e: JobEvent) => void {
  const q = new TickQueue<JobEvent>((events) => void broker.broadcast("job.events", { events }, "api"));
  return (e) => q.push(e);
}

export function coordinatorService(coord: Coordinator, logger: Logger, liveness: LivenessProbe = async () => "unknown"): ServiceSchema {
  type P = Record<string, unknown>;
  const p = <T>(ctx: Context<unknown>) => ctx.params as T;
  return {
    name: "coordinator",
    actions: {
      // Submits and outcome reports come batched (see tick-batch.ts): one reply per item, in order.
      submitMany: (ctx: Context<unknown>) => settleBatch(p<{ items: unknown }>(ctx).items, (i: SubmitJobInput) => coord.submit(i)),
      // Reports and heartbeats speak for the node that sent them, whatever node_id they claim
      // (coordinator/result-guard.ts): a node cannot report another's job or renew its leases.
      reportMany: (ctx: Context<unknown>) =>
        settleBatch(p<{ items: unknown }>(ctx).items, (r: AgentReport) => {
          if (r?.kind === "completed") return coord.reportCompleted(fromSender(r, ctx.nodeID));
          if (r?.kind === "failed") return coord.reportFailed(fromSender(r, ctx.nodeID));
          throw new FarmError("VALIDATION_ERROR", "report kind must be completed or failed", { field: "kind", constraint: "enum" });
        }),
      get: (ctx: Context<unknown>) => coord.get(p<{ id: string }>(ctx).id),
      list: (ctx: Context<unknown>) => coord.list(p(ctx)),
      cancel: (ctx: Context<unknown>) => coord.cancel(p<{ id: string }>(ctx).id),
      why: (ctx: Context<unknown>) => coord.why(p<{ id: string }>(ctx).id),
      status: () => coord.status(),
      nodes: () => coord.nodes(),
      drain: (ctx: Context<unknown>) => coord.drain(p<{ node_id: string }>(ctx).node_id),
      undrain: (ctx: Context<unknown>) => coord.undrain(p<{ node_id: string }>(ctx).node_id),
      unblock: async (ctx: Context<unknown>) => {
        const { node_id, type } = p<{ node_id: string; type?: string }>(ctx);
        await coord.unblock(node_id, type);
        return coord.nodes().find((n) => n.node_id === node_id) ?? { node_id };
      },
      heartbeat: (ctx: Context<unknown>) => coord.nodeHeartbeat(fromSender(p<HeartbeatReport>(ctx), ctx.nodeID)),
      progress: (ctx: Context<unknown>) => coord.reportProgress(fromSender(p<ProgressReport>(ctx), ctx.nodeID)),
    },
    events: {
      // `unexpected` is Moleculer's heartbeat timeout; a clean stop says goodbye first.
      "$node.disconnected"(ctx: Context<unknown>) {
        const { node, unexpected } = ctx.params as { node: { id: string }; unexpected: boolean };
        const settle = async () => {
          if (!unexpected) return coord.nodeLost(node.id, "left the mesh");
          const seen = await liveness(node.id);
          logger.warn("node missed its heartbeats", { node_id: node.id, nats_connection: seen });
          if (seen === "gone") return coord.nodeLost(node.id, "missed heartbeats and its NATS connection is closed");
          coord.nodeSuspect(
            node.id,
            seen === "connected" ? "missed heartbeats but still connected to NATS (stalled?)" : "missed heartbeats; whether it is alive cannot be told now",
          );
        };
        settle().catch((err: unknown) => logger.error("handling a lost node failed", { node_id: node.id, err: String(err) }));
      },
    },
  } as ServiceSchema & Record<string, P | unknown>;
}
