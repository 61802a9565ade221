/** Jobs: submit any job type (operators, diag), list, get, cancel, why. */
import type { FastifyInstance } from "fastify";
import type { ApiDeps } from "../deps.ts";
import { toJobView, jobViewSchema } from "../job-view.ts";
import { ownedJob, type Principal } from "../auth.ts";
import { assertParamsOutputsAllowed } from "../inputs/input-caller.ts";
import { requestCaller } from "../inputs/request-caller.ts";
import { JOB_STATUSES, isTerminal } from "../../core/job.ts";
import { waitForJob } from "../job-waiter.ts";
import { ownerOf, webhookFor, webhookUrlSchema } from "../job-route.ts";
import { whySchema } from "../schemas/farm.ts";
import { errorResponses } from "../schemas/common.ts";

/**
 * The ownership filter of a listing, applied by the coordinator's job store (indexed):
 * admin keys (and everyone with auth off) see every job; any other key sees exactly the
 * jobs it submitted; an anonymous caller (auth on with allow_anonymous) sees the jobs
 * without an owner, which is what its own submissions are. Without this every key could
 * read every other key's jobs, params and results.
 */
function listOwner(principal: Principal): string | null | undefined {
  if (principal.scopes.has("admin")) return undefined;
  return principal.anonymous ? null : principal.name;
}

const jobIdParams = {
  type: "object",
  required: ["job_id"],
  properties: { job_id: { type: "string", minLength: 1, maxLength: 100, pattern: "^[A-Za-z0-9_-]+$" } },
} as const;

export async function jobRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const { farm } = deps;

  app.post<{
    Body: { type: string; params?: Record<string, unknown>; priority?: number; idempotency_key?: string; webhook_url?: string };
    Querystring: { wait?: boolean };
  }>(
    "/api/v1/jobs",
    {
      schema: {
        tags: ["jobs"],
        summary: "Submit a job of any type (operators, diag smoke tests)",
        description:
          "Answers 202 with the pending job at once; with ?wait=true it waits (up to api.sync_wait_s) and answers 200 with the finished job, or 202 if it is still running.",
        querystring: { type: "object", properties: { wait: { type: "boolean", default: false } } },
        body: {
          type: "object",
          required: ["type"],
          additionalProperties: false,
          properties: {
            type: { type: "string", minLength: 1, maxLength: 100, pattern: "^[a-z0-9_]+(\\.[a-z0-9_]+)*$" },
            params: { type: "object", additionalProperties: true, default: {} },
            priority: { type: "integer", minimum: -100, maximum: 100, default: 0 },
            idempotency_key: { type: "string", minLength: 1, maxLength: 200 },
            webhook_url: webhookUrlSchema,
          },
        },
        response: { 200: jobViewSchema, 202: jobViewSchema, ...errorResponses },
      },
    },
    async (req, reply) => {
      const { webhook_url: given, ...body } = req.body;
      // Raw params reach the plugin as they are: outputs named in them get the inputs' owner check.
      await assertParamsOutputsAllowed(body.params, requestCaller(req, farm));
      const webhook_url = await webhookFor(deps, req, given);
      const job = await farm.submit({ ...body, owner: ownerOf(req), ...(webhook_url !== undefined ? { webhook_url } : {}) });
      if (!req.query.wait) return reply.status(202).send(toJobView(job));
      const done = await waitForJob(farm, job, deps.config.api.sync_wait_s * 1000);
      return reply.status(isTerminal(done.status) ? 200 : 202).send(toJobView(done));
    },
  );

  app.get<{ Querystring: { status?: (typeof JOB_STATUSES)[number]; type?: string; limit: number; offset: number } }>(
    "/api/v1/jobs/list",
    {
      schema: {
        tags: ["jobs"],
        summary: "List jobs, newest first",
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            status: { type: "string", enum: [...JOB_STATUSES] },
            type: { type: "string", maxLength: 100 },
            limit: { type: "integer", minimum: 1, maximum: 1000, default: 50 },
            offset: { type: "integer", minimum: 0, default: 0 },
          },
        },
        response: {
          200: {
            type: "object",
            properties: { jobs: { type: "array", items: jobViewSchema }, total: { type: "integer" }, limit: { type: "integer" }, offset: { type: "integer" } },
          },
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const { status, type, limit, offset } = req.query;
      const owner = listOwner(req.principal);
      const { jobs, total } = await farm.list(owner === undefined ? { status, type, limit, offset } : { status, type, limit, offset, owner });
      return { jobs: jobs.map(toJobView), total, limit, offset };
    },
  );

  app.get<{ Params: { job_id: string } }>(
    "/api/v1/jobs/:job_id",
    {
      schema: { tags: ["jobs"], summary: "Job status and details", params: jobIdParams, response: { 200: jobViewSchema, ...errorResponses } },
    },
    async (req) => {
      return toJobView(await ownedJob(farm, req.principal, req.params.job_id));
    },
  );

  app.post<{ Params: { job_id: string } }>(
    "/api/v1/jobs/:job_id/cancel",
    {
      schema: { tags: ["jobs"], summary: "Cancel a pending or running job", params: jobIdParams, response: { 200: jobViewSchema, ...errorResponses } },
    },
    async (req) => {
      await ownedJob(farm, req.principal, req.params.job_id);
      return toJobView(await farm.cancel(req.params.job_id));
    },
  );

  app.get<{ Params: { job_id: string } }>(
    "/api/v1/jobs/:job_id/why",
    {
      config: { scope: "admin" },
      schema: {
        tags: ["farm"],
        summary: "Why a job was placed where it was (or nowhere): per-node reasons",
        params: jobIdParams,
        response: { 200: whySchema, ...errorResponses },
      },
    },
    async (req) => farm.why(req.params.job_id),
  );
}
