/**
 * The coordinator role on the mesh: a thin Moleculer service around the transport-free
 * Coordinator class. Agents that leave the mesh (heartbeat timeout, clean stop) have
 * their jobs re-queued at once.
 */
import type { ServiceSchema, Context } from "moleculer";
import type { Broker } from "./broker.ts";
import type { Coordinator } from "../coordinator/coordinator.ts";
import type { DispatchTask, Dispatcher } from "../core/mesh-contract.ts";
import type { JobEvent } from "../core/job.ts";
import type { Logger } from "../core/logger.ts";

/** Dispatcher over the mesh: calls go to one agent by node id, with the mesh's request timeout. */
export function meshDispatcher(broker: Broker): Dispatcher {
  return {
    startTask: async (nodeId: string, task: DispatchTask) => {
      await broker.call("agent.start", task, { nodeID: nodeId });
    },
    cancelTask: async (nodeId: string, jobId: string, token: number) => {
      await broker.call("agent.cancel", { job_id: jobId, token }, { nodeID: nodeId });
    },
  };
}

/** Job events go to every API process (each holds its own WebSocket clients and waiters). */
export function meshPublisher(broker: Broker): (e: JobEvent) => void {
  return (e) => {
    void broker.broadcast("job.event", e, "api");
  };
}

export function coordinatorService(coord: Coordinator, logger: Logger): ServiceSchema {
  type P = Record<string, unknown>;
  const p = <T>(ctx: Context<unknown>) => ctx.params as T;
  return {
    name: "coordinator",
    actions: {
      submit: (ctx: Context<unknown>) => coord.submit(p(ctx)),
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
      heartbeat: (ctx: Context<unknown>) => coord.nodeHeartbeat(p(ctx)),
      progress: (ctx: Context<unknown>) => coord.reportProgress(p(ctx)),
      completed: (ctx: Context<unknown>) => coord.reportCompleted(p(ctx)),
      failed: (ctx: Context<unknown>) => coord.reportFailed(p(ctx)),
    },
    events: {
      "$node.disconnected"(ctx: Context<unknown>) {
        const { node, unexpected } = ctx.params as { node: { id: string }; unexpected: boolean };
        logger.warn("node left the mesh", { node_id: node.id, unexpected });
        void Promise.resolve(coord.nodeLost(node.id)).catch((err: unknown) => logger.error("nodeLost failed", { err: String(err) }));
      },
    },
  } as ServiceSchema & Record<string, P | unknown>;
}
