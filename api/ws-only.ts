/**
 * A plain HTTP GET (no `Upgrade: websocket`) to a WebSocket route got @fastify/websocket's
 * bare 404 with an empty body (found by the fuzzer, bench/fuzz): every WebSocket route now
 * answers such a request 400 in the spec's envelope, naming the missing upgrade. Installed
 * before the routes, as an onRoute hook, so routes added later (/ws/farm) are covered too.
 */
import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from "fastify";
import { FarmError } from "../core/errors.ts";

const needsUpgrade: preHandlerAsyncHookHandler = async (req: FastifyRequest) => {
  // @fastify/websocket sets req.ws on every request: true only for an upgrade.
  if (!req.ws) {
    const path = req.url.split("?")[0] ?? req.url;
    throw new FarmError("VALIDATION_ERROR", `${path} is a WebSocket: connect with 'Upgrade: websocket'`, { field: "upgrade", constraint: "websocket" });
  }
};

export function installWebSocketOnly(app: FastifyInstance): void {
  app.addHook("onRoute", (route) => {
    if (!route.websocket) return;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (methods.every((m) => m === "HEAD")) return; // HEAD has no body to explain anything in
    const existing = route.preHandler ? (Array.isArray(route.preHandler) ? route.preHandler : [route.preHandler]) : [];
    route.preHandler = [needsUpgrade, ...existing];
  });
}
