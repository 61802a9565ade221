/**
 * One log line per request (info level), carrying the request id that the answer also
 * carries in `X-Request-Id`, so a user's report ("request 3f2c... failed") leads to the line.
 * The query string is left out of the logged URL: it may hold `api_key` on WebSocket upgrades.
 */
import type { FastifyInstance } from "fastify";
import type { Logger } from "../core/logger.ts";

export function installRequestLog(app: FastifyInstance, logger: Logger): void {
  app.addHook("onRequest", async (req, reply) => {
    reply.header("x-request-id", req.id);
  });
  app.addHook("onResponse", async (req, reply) => {
    const q = req.url.indexOf("?");
    logger.info("request", {
      req_id: req.id,
      method: req.method,
      url: q === -1 ? req.url : req.url.slice(0, q),
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
      client: req.principal && !req.principal.anonymous ? req.principal.name : req.ip,
    });
  });
}
