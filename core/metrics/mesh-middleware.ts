/**
 * A Moleculer middleware that feeds the metrics from the mesh itself instead of from calls
 * placed in every service: every outgoing call that fails is counted (mesh-errors.ts), and
 * every accepted `coordinator.heartbeat` hands its node report to a listener (model loads
 * and evictions, coordinator-metrics.ts). It adds one `.catch` per call and nothing else.
 */
import type Moleculer from "moleculer";
import type { NodeReport } from "../telemetry.ts";

export interface MeshMetricsHooks {
  callFailed?(action: string, err: unknown): void;
  heartbeat?(report: NodeReport): void;
}

const HEARTBEAT_ACTION = "coordinator.heartbeat";

export function meshMetricsMiddleware(hooks: MeshMetricsHooks): Moleculer.Middleware {
  return {
    name: "FarmMetrics",
    call(next: (action: string, params: unknown, opts: unknown) => Promise<unknown>) {
      if (!hooks.callFailed) return next;
      return (action: string, params: unknown, opts: unknown) =>
        next(action, params, opts).catch((err: unknown) => {
          try {
            hooks.callFailed!(String(action), err);
          } catch {
            /* counting must not change the call's outcome */
          }
          throw err;
        });
    },
    localAction(next: (ctx: Moleculer.Context) => Promise<unknown>, action: { name: string }) {
      if (!hooks.heartbeat || action.name !== HEARTBEAT_ACTION) return next;
      return async (ctx: Moleculer.Context) => {
        const res = await next(ctx); // only reports the coordinator accepted (it validates them)
        try {
          hooks.heartbeat!(ctx.params as NodeReport);
        } catch {
          /* see above */
        }
        return res;
      };
    },
  } as unknown as Moleculer.Middleware;
}
