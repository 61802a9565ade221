/**
 * Builds the Fastify front door: error envelope, auth, rate limits, OpenAPI + Swagger
 * UI at /docs, WebSocket hub, and every route family. The farm behind it is injected.
 */
import { randomUUID } from "node:crypto";
import Fastify, { type FastifyInstance } from "fastify";
import websocket from "@fastify/websocket";
import { WS_MAX_PAYLOAD, wsErrorHandler } from "./ws-errors.ts";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { ApiDeps } from "./deps.ts";
import { installErrorHandling, frameworkError, clientError } from "./errors.ts";
import { installWebSocketOnly } from "./ws-only.ts";
import { installValidators } from "./validators.ts";
import { installQueryParams } from "./query-params.ts";
import { assertJsonDepth } from "./json-depth.ts";
import { refusedKeyError } from "./json-keys.ts";
import { installAuth } from "./auth.ts";
import { installCors } from "./cors.ts";
import { installRequestLog } from "./request-log.ts";
import { operationIdFor } from "./operation-id.ts";
import { installRateLimit } from "./rate-limit.ts";
import { jobRoutes } from "./routes/jobs.ts";
import { wsRoutes } from "./routes/ws.ts";
import { outputRoutes } from "./routes/outputs.ts";
import { createOutputLinks } from "./output-links.ts";
import { farmRoutes } from "./routes/farm.ts";
import { specRoutes } from "./routes/index.ts";
import { ApiMetrics } from "./metrics/http-metrics.ts";
import { metricsRoute } from "./metrics/route.ts";
import { dashboardRoutes } from "./dashboard/routes.ts";

/** The documented parameter of a wildcard route: the rest of the path, slashes included. */
const WILDCARD_PARAMS = {
  type: "object",
  required: ["path"],
  properties: { path: { type: "string", description: "The rest of the path, slashes included (e.g. images/uuid.png)" } },
} as const;

export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const cfg = deps.config.api;
  const app = Fastify({
    logger: false,
    bodyLimit: Math.round(cfg.body_limit_mb * 1024 * 1024),
    trustProxy: false,
    return503OnClosing: true,
    forceCloseConnections: true,
    // Our own ids, never the client's: a client-chosen id could be forged or huge.
    genReqId: () => randomUUID(),
    // Router errors (bad percent-encoding, over-long ids) in the spec's envelope too.
    frameworkErrors: frameworkError,
    // Requests the HTTP parser refuses (headers over 16 KB) in the envelope too.
    clientErrorHandler: clientError,
  });
  installErrorHandling(app, deps.logger);
  installRequestLog(app, deps.logger);
  const metrics = deps.config.metrics?.enabled === false ? undefined : new ApiMetrics();
  metrics?.install(app);
  // Unknown fields are rejected where the schema says additionalProperties: false (never
  // silently dropped); bodies are validated without type coercion.
  installValidators(app);
  installQueryParams(app);
  // Every body is JSON (or multipart on /uploads): without this, Fastify's default text/plain
  // parser hands a string to the schema and a wrong content type reads as a 400, not 415.
  app.removeContentTypeParser("text/plain");
  // An empty body sent as application/json (client wrappers that always set the header, on
  // POST /jobs/{id}/cancel or a drain) means "no body", not a 400; routes that need a body
  // still fail validation naming it. Non-empty bodies go through Fastify's own safe parser.
  const json = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (req, body, done) => {
    if (body.length === 0) return done(null, undefined);
    void json(req, String(body), (err, parsed) => {
      if (err) return done(refusedKeyError(String(body)) ?? err, undefined);
      try {
        assertJsonDepth(parsed);
      } catch (e) {
        return done(e as Error, undefined);
      }
      done(null, parsed);
    });
  });
  await app.register(swagger, {
    // @fastify/websocket hides WebSocket routes from the docs; /ws/{job_id} is part of the spec, so show it.
    // Every operation gets an operationId (generated clients name their methods after it).
    transform: ({ schema, url, route }) => {
      const method = Array.isArray(route.method) ? String(route.method[0]) : String(route.method);
      const base = schema ?? {};
      return {
        schema: {
          ...base,
          ...(route.websocket ? { hide: false } : {}),
          ...(url.endsWith("/*") ? { params: WILDCARD_PARAMS } : {}),
          operationId: (base as { operationId?: string }).operationId ?? operationIdFor(method, url),
        },
        // A wildcard route (/outputs/*) is documented as /outputs/{path}, not /outputs/{*}.
        url: url.endsWith("/*") ? `${url.slice(0, -1)}:path` : url,
      };
    },
    // 3.1: the route schemas are JSON Schema 2020-12 style (numeric exclusiveMinimum, type arrays with "null").
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Nano Banana Studio Pro API",
        version: "2.0.0",
        description: "Served by the Nano Banana render farm. Errors use the envelope {error, code, message, details, timestamp}.",
      },
      components: {
        securitySchemes: {
          bearer: { type: "http", scheme: "bearer" },
          apiKey: { type: "apiKey", in: "header", name: "X-API-Key" },
        },
      },
      security: cfg.auth.enabled ? [{ bearer: [] }, { apiKey: [] }] : [],
    },
  });
  await app.register(swaggerUi, { routePrefix: "/docs", uiConfig: { docExpansion: "list" } });
  // Before auth and rate limits: its onRequest hook marks upgrade requests so that a refused
  // upgrade (401/403/429 thrown by a later hook) gets its socket destroyed after the answer.
  // Registered after them, a refused upgrade left a half-open socket and app.close() hung.
  // A frame over maxPayload closes 1009 (api/ws-errors.ts), not a bare 1006.
  await app.register(websocket, { options: { maxPayload: WS_MAX_PAYLOAD }, errorHandler: wsErrorHandler });
  installWebSocketOnly(app);
  // Before auth: a browser's preflight carries no credentials and must not be refused.
  installCors(app, cfg.cors);
  installAuth(app, cfg.auth);
  await installRateLimit(app, cfg.rate_limits, deps.redis, deps.config.redis.prefix);
  // Every /outputs/... path in an answer becomes a signed, expiring link (api/output-links.ts).
  const links = createOutputLinks(cfg);
  app.decorate("outputLinks", links);
  app.addHook("preSerialization", async (_req, _reply, payload: unknown) => links.signAll(payload));
  await app.register(async (scope) => {
    await farmRoutes(scope, deps);
    await jobRoutes(scope, deps);
    await wsRoutes(scope, deps);
    await dashboardRoutes(scope, deps);
    await outputRoutes(scope, deps);
    await specRoutes(scope, deps);
    if (metrics) await metricsRoute(scope, metrics, deps.remoteMetrics);
  });
  return app;
}
