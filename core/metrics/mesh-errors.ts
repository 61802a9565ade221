/**
 * Failed mesh calls, counted by the broker middleware (mesh-middleware.ts) in every API
 * and coordinator process. `kind` separates the mesh failing (`transport`: a timeout, no
 * node offering the action, a disconnected broker) from an action that answered with an
 * error of its own (`remote`: e.g. NOT_FOUND for an unknown job id), which is normal traffic.
 */
import { Counter, type Registry } from "prom-client";

/** Moleculer's error types for a call that never got an answer from the action. */
const TRANSPORT_TYPES = new Set([
  "REQUEST_TIMEOUT",
  "SERVICE_NOT_FOUND",
  "SERVICE_NOT_AVAILABLE",
  "REQUEST_REJECTED",
  "REQUEST_SKIPPED",
  "QUEUE_FULL",
  "BAD_GATEWAY",
  "MAX_CALL_LEVEL",
  "PROTOCOL_VERSION_MISMATCH",
  "INVALID_PACKET_DATA",
]);

export function errorKind(err: unknown): { kind: "transport" | "remote"; code: string } {
  const e = (err ?? {}) as { type?: unknown; code?: unknown; name?: unknown };
  const type = typeof e.type === "string" ? e.type : undefined;
  if (type !== undefined && TRANSPORT_TYPES.has(type)) return { kind: "transport", code: type };
  if (e.name === "BrokerDisconnectedError") return { kind: "transport", code: "BROKER_DISCONNECTED" };
  const code = typeof e.code === "string" ? e.code : (type ?? (typeof e.name === "string" ? e.name : "ERROR"));
  return { kind: "remote", code };
}

export class MeshErrorCounter {
  private readonly counter: Counter<"action" | "kind" | "code">;
  constructor(registry: Registry) {
    this.counter = new Counter({
      name: "farm_mesh_call_errors_total",
      help: "Mesh (Moleculer) calls that failed, by action; kind=transport: no answer (timeout, no node), remote: the action answered an error",
      labelNames: ["action", "kind", "code"],
      registers: [registry],
    });
  }

  count(action: string, err: unknown): void {
    const { kind, code } = errorKind(err);
    this.counter.inc({ action, kind, code });
  }
}
