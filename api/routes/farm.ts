/** Operator routes used by farmctl: status, nodes, drain/undrain. Admin scope. */
import type { FastifyInstance } from "fastify";
import type { ApiDeps } from "../deps.ts";
import { errorResponses } from "../schemas/common.ts";
import { farmStatusSchema, nodesSchema, nodeStatusSchema } from "../schemas/farm.ts";
import { nodesFor, statusFor } from "../farm-view.ts";
import { FarmError, validationAt } from "../../core/errors.ts";
import { checkReadiness, readinessChecks } from "../health.ts";

const checkResult = {
  type: "object",
  properties: { ok: { type: "boolean" }, ms: { type: "number" }, error: { type: "string" }, info: { type: "object", additionalProperties: true } },
} as const;
const readinessSchema = { type: "object", properties: { ready: { type: "boolean" }, checks: { type: "object", additionalProperties: checkResult } } } as const;

const nodeParams = { type: "object", required: ["node_id"], properties: { node_id: { type: "string", minLength: 1, maxLength: 200 } } } as const;

/**
 * `?type=` must name a job type the node offers or is blocklisted for: a misspelt type
 * ("bogus.x") used to answer 200 and unblock nothing, so the operator believed it done.
 * A node the farm does not list is left to the coordinator's own answer: an offline node
 * with a blocklist or failure counters is unblocked, any other id is 404 NOT_FOUND.
 */
async function checkUnblockType(deps: ApiDeps, nodeId: string, type: string): Promise<void> {
  const node = (await deps.farm.nodes()).find((n) => n.node_id === nodeId) as
    { report?: { job_types?: unknown }; blocklisted?: Record<string, unknown> } | undefined;
  if (!node) return;
  const offered = Array.isArray(node.report?.job_types) ? node.report.job_types.filter((t): t is string => typeof t === "string") : [];
  const known = [...new Set([...offered, ...Object.keys(node.blocklisted ?? {})])].sort();
  if (known.includes(type)) return;
  throw validationAt("type", "known", `node '${nodeId}' has no job type '${type}' (it offers: ${known.join(", ") || "none"})`, { allowed: known });
}

export async function farmRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  app.get(
    "/api/v1/farm/status",
    {
      config: { scope: "read" },
      schema: {
        tags: ["farm"],
        summary: "Nodes, GPUs (VRAM, utilisation, resident models), running jobs, queue depth per job type",
        response: { 200: farmStatusSchema, ...errorResponses },
      },
    },
    async (req) => statusFor(req.principal, await deps.farm.status()),
  );
  app.get(
    "/api/v1/farm/nodes",
    {
      config: { scope: "read" },
      schema: { tags: ["farm"], summary: "Nodes and what they offer", response: { 200: nodesSchema, ...errorResponses } },
    },
    async (req) => ({ nodes: nodesFor(req.principal, await deps.farm.nodes()) }),
  );
  app.post<{ Params: { node_id: string } }>(
    "/api/v1/farm/nodes/:node_id/drain",
    {
      config: { scope: "admin" },
      schema: {
        tags: ["farm"],
        summary: "Stop sending new work to a node; running jobs finish",
        params: nodeParams,
        response: { 200: nodeStatusSchema, ...errorResponses },
      },
    },
    async (req) => deps.farm.drain(req.params.node_id),
  );
  app.post<{ Params: { node_id: string } }>(
    "/api/v1/farm/nodes/:node_id/undrain",
    {
      config: { scope: "admin" },
      schema: { tags: ["farm"], summary: "Let a drained node take work again", params: nodeParams, response: { 200: nodeStatusSchema, ...errorResponses } },
    },
    async (req) => deps.farm.undrain(req.params.node_id),
  );
  app.post<{ Params: { node_id: string }; Querystring: { type?: string } }>(
    "/api/v1/farm/nodes/:node_id/unblock",
    {
      config: { scope: "admin" },
      schema: {
        tags: ["farm"],
        summary: "Lift a node's blocklist (?type= for one job type) and reset its failure counters",
        params: nodeParams,
        querystring: { type: "object", additionalProperties: false, properties: { type: { type: "string", minLength: 1, maxLength: 100 } } },
        response: { 200: nodeStatusSchema, ...errorResponses },
      },
    },
    async (req) => {
      if (req.query.type !== undefined) await checkUnblockType(deps, req.params.node_id, req.query.type);
      return deps.farm.unblock(req.params.node_id, req.query.type);
    },
  );
  // Health probes are never rate limited: a limiter backed by a Redis that is down would
  // turn the liveness probe into errors and get a healthy API restarted.
  app.get(
    "/health",
    {
      config: { scope: null, rateLimit: false },
      schema: {
        tags: ["farm"],
        summary: "Liveness: this API process answers (checks nothing else)",
        response: { 200: { type: "object", properties: { ok: { type: "boolean" } } } },
      },
    },
    async () => ({ ok: true }),
  );
  const checks = readinessChecks(deps);
  app.get(
    "/health/ready",
    {
      config: { scope: null, rateLimit: false },
      schema: {
        tags: ["farm"],
        summary: "Readiness: coordinator, mesh, Redis and artifact store checked, each named; 503 SERVICE_UNAVAILABLE when one fails",
        response: { 200: readinessSchema, 503: { type: "object", additionalProperties: true } },
      },
    },
    async () => {
      const r = await checkReadiness(checks);
      if (r.ready) return r;
      const down = Object.entries(r.checks)
        .filter(([, c]) => !c.ok)
        .map(([name, c]) => `${name} (${c.error ?? "failed"})`);
      throw new FarmError("SERVICE_UNAVAILABLE", `not ready: ${down.join(", ")}`, { field: "dependencies", constraint: "reachable", checks: r.checks });
    },
  );
}
