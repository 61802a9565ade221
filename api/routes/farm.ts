/** Operator routes used by farmctl: status, nodes, drain/undrain. Admin scope. */
import type { FastifyInstance } from "fastify";
import type { ApiDeps } from "../deps.ts";
import { errorResponses } from "../schemas/common.ts";

const nodeParams = { type: "object", required: ["node_id"], properties: { node_id: { type: "string", minLength: 1, maxLength: 200 } } } as const;

export async function farmRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  app.get("/api/v1/farm/status", {
    config: { scope: "read" },
    schema: { tags: ["farm"], summary: "Nodes, GPUs (VRAM, utilisation, resident models), running jobs, queue depth per job type", response: errorResponses },
  }, async () => deps.farm.status());
  app.get("/api/v1/farm/nodes", {
    config: { scope: "read" },
    schema: { tags: ["farm"], summary: "Nodes and what they offer", response: errorResponses },
  }, async () => ({ nodes: await deps.farm.nodes() }));
  app.post<{ Params: { node_id: string } }>("/api/v1/farm/nodes/:node_id/drain", {
    config: { scope: "admin" },
    schema: { tags: ["farm"], summary: "Stop sending new work to a node; running jobs finish", params: nodeParams, response: errorResponses },
  }, async (req) => deps.farm.drain(req.params.node_id));
  app.post<{ Params: { node_id: string } }>("/api/v1/farm/nodes/:node_id/undrain", {
    config: { scope: "admin" },
    schema: { tags: ["farm"], summary: "Let a drained node take work again", params: nodeParams, response: errorResponses },
  }, async (req) => deps.farm.undrain(req.params.node_id));
  app.post<{ Params: { node_id: string }; Querystring: { type?: string } }>("/api/v1/farm/nodes/:node_id/unblock", {
    config: { scope: "admin" },
    schema: {
      tags: ["farm"],
      summary: "Lift a node's blocklist (?type= for one job type) and reset its failure counters",
      params: nodeParams,
      querystring: { type: "object", additionalProperties: false, properties: { type: { type: "string", minLength: 1, maxLength: 100 }, api_key: { type: "string" } } },
      response: errorResponses,
    },
  }, async (req) => deps.farm.unblock(req.params.node_id, req.query.type));
  app.get("/health", { config: { scope: null }, schema: { tags: ["farm"], summary: "Liveness" } }, async () => ({ ok: true }));
}
