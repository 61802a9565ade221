/**
 * api/ws-errors.ts on real sockets: an error `ws` raised for a frame rule (it has already
 * sent the close frame with the code) leaves the closing handshake to finish, so the client
 * reads the code; any other error still ends the connection at once.
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import type { FastifyRequest } from "fastify";
import WebSocket, { WebSocketServer } from "ws";
import { WS_MAX_PAYLOAD, wsErrorHandler } from "../../api/ws-errors.ts";

let wss: WebSocketServer;
const logged: string[] = [];
const request = {
  log: { warn: (_o: unknown, msg: string) => logged.push(`warn ${msg}`), error: (e: Error) => logged.push(`error ${e.message}`) },
} as unknown as FastifyRequest;

beforeAll(async () => {
  wss = new WebSocketServer({ host: "127.0.0.1", port: 0, maxPayload: WS_MAX_PAYLOAD });
  await new Promise((r) => wss.once("listening", r));
  wss.on("connection", (socket) => {
    socket.on("error", (err) => wsErrorHandler(err, socket, request));
    // A message asks the server to fail the socket with an error of its own (not a frame rule).
    socket.on("message", (d) => {
      if (d.toString() === "fail") socket.emit("error", new Error("handler broke"));
    });
  });
});
afterAll(async () => {
  await new Promise((r) => wss.close(r));
});

function closeCode(send: (ws: WebSocket) => void): Promise<number> {
  const port = (wss.address() as AddressInfo).port;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    const timer = setTimeout(() => reject(new Error("still open")), 10_000);
    ws.on("open", () => send(ws));
    ws.on("error", () => undefined);
    ws.on("close", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

test("a frame over maxPayload: 1009 reaches the client, logged as a warning", async () => {
  assert.equal(await closeCode((ws) => ws.send(Buffer.alloc(WS_MAX_PAYLOAD + 1))), 1009);
  assert.ok(logged.includes("warn websocket frame refused"), logged.join("; "));
});

test("another error ends the connection at once (1006) and is logged as an error", async () => {
  assert.equal(await closeCode((ws) => ws.send("fail")), 1006);
  assert.ok(logged.includes("error handler broke"), logged.join("; "));
});
