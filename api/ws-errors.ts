/**
 * What the API does when a WebSocket connection errors. @fastify/websocket's default
 * handler terminates the socket, so a client whose frame broke a rule (a 5 MB frame over
 * maxPayload) saw 1006 (abnormal closure) instead of the reason. `ws` has already started
 * the closing handshake with the right code for such errors (1009 message too big, 1002
 * protocol error, 1007 bad UTF-8: its Receiver sets the code, see ws/lib/websocket.js
 * receiverOnError), so those are left to finish; anything else still ends the connection.
 */
import type { FastifyRequest } from "fastify";
import type { WebSocket } from "ws";

/** The most bytes one client frame may carry: clients only ever send nothing or a tiny ping. */
export const WS_MAX_PAYLOAD = 64 * 1024;

/** `ws` names its frame-rule errors WS_ERR_* (e.g. WS_ERR_UNSUPPORTED_MESSAGE_LENGTH). */
function isFrameRuleError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("WS_ERR_");
}

export function wsErrorHandler(error: Error, socket: WebSocket, request: FastifyRequest): void {
  if (isFrameRuleError(error)) {
    // The client broke a frame rule: its fault, not ours, and the close frame tells it why.
    request.log.warn({ err: error.message, code: (error as { code?: string }).code }, "websocket frame refused");
    return;
  }
  request.log.error(error);
  socket.terminate();
}
