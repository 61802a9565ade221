/**
 * One helper for every spec endpoint that is a job: validate (schema), resolve inputs,
 * submit, then either answer 202 at once (?async=true or `Prefer: respond-async`) or
 * wait for the job and answer the spec's completed response. A sync wait that runs
 * out answers 202 with the job id: the job is never lost.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ApiDeps } from "./deps.ts";
import type { JobRecord, JobStep } from "../core/job.ts";
import { FarmError, isErrorCode } from "../core/errors.ts";
import { waitForJob } from "./job-waiter.ts";
import { perfEnd, perfMark, perfOn } from "../core/perf-spans.ts";
import { acceptedSchema, errorResponses } from "./schemas/common.ts";
import type { RateGroup } from "./rate-limit.ts";
import { parseWebhookUrl, vetWebhookTarget, WEBHOOK_FIELD } from "../coordinator/webhooks/target.ts";

/** `webhook_url` in every job request's body (documented once, here). */
export const webhookUrlSchema = {
  type: "string",
  minLength: 1,
  maxLength: 2048,
  description:
    "http(s) URL the finished job (as GET /api/v1/jobs/{id} shows it) is POSTed to, signed: header X-Farm-Signature: t=<unix s>,v1=<hex HMAC-SHA256 of '<t>.<body>'>. Default: the API key's webhook_url. Private addresses are refused unless the farm allows them.",
} as const;

/** A job route's body schema with `webhook_url` added (object schemas with properties). */
export function withWebhookUrl(body: Record<string, unknown>): Record<string, unknown> {
  const props = body.properties as Record<string, unknown> | undefined;
  if (body.type !== "object" || !props || WEBHOOK_FIELD in props) return body;
  return { ...body, properties: { ...props, [WEBHOOK_FIELD]: webhookUrlSchema } };
}

/**
 * The webhook of a job request: the body's `webhook_url`, else the calling key's default.
 * Checked before anything is submitted (http(s), and the inputs' address rules: a private
 * address is refused without connecting, unless webhooks.allow_private_addresses), and a
 * farm with no signing secret for this key refuses it: an unsigned webhook cannot be trusted.
 * The coordinator delivers it (coordinator/webhooks/worker.ts). 400 naming webhook_url.
 */
export async function webhookFor(deps: ApiDeps, req: FastifyRequest, given: unknown): Promise<string | undefined> {
  const key = req.principal && !req.principal.anonymous ? deps.config.api.auth.keys.find((k) => k.name === req.principal.name) : undefined;
  const raw = given ?? key?.webhook_url;
  if (raw === undefined) return undefined;
  const url = parseWebhookUrl(raw);
  const cfg = deps.config.webhooks;
  if (!(key?.webhook_secret ?? cfg?.secret)) {
    throw new FarmError(
      "VALIDATION_ERROR",
      `${WEBHOOK_FIELD}: webhooks are not set up on this farm (no webhooks.secret, nor a webhook_secret for this API key)`,
      { field: WEBHOOK_FIELD, constraint: "webhooks.secret" },
    );
  }
  await vetWebhookTarget(url, { allow_private_addresses: cfg?.allow_private_addresses ?? false });
  return raw as string;
}

export interface JobRouteSpec<B> {
  url: string;
  jobType: string | ((body: B) => string);
  summary: string;
  tags: string[];
  body: Record<string, unknown>;
  /** Schema of the 200 response (documented in OpenAPI). */
  response?: Record<string, unknown>;
  rateGroup?: RateGroup;
  bodyLimitMb?: number;
  /** Seconds to wait for the job in sync mode (default api.sync_wait_s). */
  waitS?: number;
  /** Turn the validated body into job params (resolve media inputs here). */
  toParams?: (body: B, req: FastifyRequest) => Promise<Record<string, unknown>> | Record<string, unknown>;
  /**
   * Multi-job work as one chained job (coordinator/job-chains.ts): the steps to run for
   * these params, or undefined for a plain job. The last step is of the route's job type.
   */
  steps?: (params: Record<string, unknown>, body: B) => JobStep[] | undefined;
  /** Turn a completed job into the spec's response. Default: {job_id, status, ...result}. */
  toResponse?: (job: JobRecord, body: B) => Promise<Record<string, unknown>> | Record<string, unknown>;
  priority?: number;
}

export function wantsAsync(req: FastifyRequest): boolean {
  const q = (req.query as Record<string, unknown> | undefined)?.async;
  if (q === true || q === "true" || q === "1") return true;
  const prefer = req.headers.prefer;
  return typeof prefer === "string" && /respond-async/i.test(prefer);
}

export function accepted(reply: FastifyReply, job: JobRecord) {
  return reply.status(202).send({ job_id: job.id, status: job.status, status_url: `/api/v1/jobs/${job.id}`, ws_url: `/ws/${job.id}` });
}

/** A failed or cancelled job becomes the error envelope with the job's own code. */
export function jobError(job: JobRecord): FarmError {
  if (job.status === "cancelled")
    return new FarmError("JOB_CANCELLED", `job ${job.id} was cancelled`, { field: "job_id", constraint: "cancelled", job_id: job.id });
  const e = job.error;
  const code = e && isErrorCode(e.code) ? e.code : "JOB_FAILED";
  return new FarmError(code, e?.message ?? `job ${job.id} failed`, { ...(e?.details ?? {}), job_id: job.id });
}

/**
 * The coordinator names a job's fields as `params.<name>`, right for POST /api/v1/jobs. A
 * spec route's caller sent `<name>` in the body (or under `prefix`), so a 503 about the
 * model names that field instead (`model`, not `params.model`, which the caller never sent).
 * Only capability errors: their message names the model, not the field, so it stays true.
 */
export function asBodyField(err: unknown, bodyProps: unknown, prefix = ""): unknown {
  if (!(err instanceof FarmError) || err.code !== "CAPABILITY_UNAVAILABLE") return err;
  const field = err.details?.field;
  if (typeof field !== "string" || !field.startsWith("params.")) return err;
  const name = field.slice("params.".length);
  const top = name.split(".")[0]!;
  if (!bodyProps || typeof bodyProps !== "object" || !Object.hasOwn(bodyProps, top)) return err;
  return new FarmError(err.code, err.message, { ...err.details, field: prefix + name }, err.retryable);
}

/** The principal's name as a job owner (none for anonymous callers). */
export const ownerOf = (req: FastifyRequest): string | undefined => (req.principal.anonymous ? undefined : req.principal.name);

/**
 * Submit a helper job and wait for it (face embeddings behind /character, beat analysis
 * behind /video/assemble, Suno credits): its result, or its own error envelope, or TIMEOUT
 * naming `field` with the job id (the job keeps running and can be looked up).
 */
export async function runJob(
  deps: ApiDeps,
  req: FastifyRequest,
  type: string,
  params: Record<string, unknown>,
  waitMs: number,
  field: string,
): Promise<Record<string, unknown>> {
  const job = await deps.farm.submit({ type, params, owner: ownerOf(req) });
  const done = await waitForJob(deps.farm, job, waitMs);
  if (done.status === "completed") return done.result ?? {};
  if (done.status === "failed" || done.status === "cancelled") throw jobError(done);
  throw new FarmError("TIMEOUT", `${type} job ${job.id} did not finish within ${Math.round(waitMs / 1000)} s; it keeps running`, {
    field,
    constraint: "timeout",
    job_id: job.id,
  });
}

export function registerJobRoute<B extends Record<string, unknown>>(app: FastifyInstance, deps: ApiDeps, spec: JobRouteSpec<B>): void {
  app.post<{ Body: B; Querystring: { async?: boolean } }>(
    spec.url,
    {
      bodyLimit: Math.round((spec.bodyLimitMb ?? deps.config.api.body_limit_mb) * 1024 * 1024),
      config: { rateGroup: spec.rateGroup },
      schema: {
        tags: spec.tags,
        summary: spec.summary,
        description:
          "Synchronous by default (waits for the job, then answers 200). With ?async=true or `Prefer: respond-async` it answers 202 {job_id, status} at once; a sync wait that runs out also answers 202.",
        querystring: { type: "object", properties: { async: { type: "boolean" } } },
        body: withWebhookUrl(spec.body),
        response: { 200: spec.response ?? { type: "object", additionalProperties: true }, 202: acceptedSchema, ...errorResponses },
      },
    },
    async (req, reply) => {
      // Bench-only marks (core/perf-spans.ts): when the request arrived, and when this handler started.
      const tIn = perfOn ? [performance.now() - reply.elapsedTime, performance.now()] : undefined;
      // webhook_url is the farm's, not the job's: it never reaches params or the plugin.
      const { [WEBHOOK_FIELD]: given, ...rest } = req.body as B;
      const body = rest as B;
      const webhook_url = await webhookFor(deps, req, given);
      const params = spec.toParams ? await spec.toParams(body, req) : { ...body };
      const type = typeof spec.jobType === "function" ? spec.jobType(body) : spec.jobType;
      const steps = spec.steps?.(params, body);
      const tParams = perfOn ? performance.now() : 0;
      const job = await deps.farm
        .submit({
          type,
          params,
          ...(steps ? { steps } : {}),
          priority: spec.priority ?? 0,
          owner: ownerOf(req),
          // Scoped to the owner by the coordinator (coordinator/validate.ts).
          idempotency_key: typeof req.headers["idempotency-key"] === "string" ? req.headers["idempotency-key"] : undefined,
          ...(webhook_url !== undefined ? { webhook_url } : {}),
        })
        .catch((err: unknown) => {
          throw asBodyField(err, spec.body.properties);
        });
      if (tIn) {
        perfMark(job.id, "http_in", tIn[0]);
        perfMark(job.id, "handler", tIn[1]);
        perfMark(job.id, "params", tParams);
        perfMark(job.id, "submitted");
      }
      if (wantsAsync(req)) return accepted(reply, job);
      const done = await waitForJob(deps.farm, job, (spec.waitS ?? deps.config.api.sync_wait_s) * 1000);
      if (done.status === "completed") {
        perfMark(job.id, "waited");
        const out = spec.toResponse ? await spec.toResponse(done, body) : { job_id: done.id, status: "completed", ...(done.result ?? {}) };
        perfMark(job.id, "response_built");
        reply.status(200).send(out);
        perfMark(job.id, "sent");
        perfEnd(job.id);
        return reply;
      }
      if (done.status === "failed" || done.status === "cancelled") throw jobError(done);
      return accepted(reply, done);
    },
  );
}
