/** Input checks at the coordinator's boundary: bad input is a VALIDATION_ERROR naming the field. */
import { validation } from "../core/errors.ts";
import { JOB_STATUSES, type JobStatus, type SubmitJobInput } from "../core/job.ts";
import type { JobListFilter } from "./job-store.ts";

/** Priority range: wide enough for any policy, narrow enough for the Redis queue score. */
export const PRIORITY_MIN = -100;
export const PRIORITY_MAX = 100;
export const LIST_LIMIT_MAX = 1000;
/** Longest owner name a listing may filter by (owners are API key names). */
export const OWNER_MAX = 200;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Idempotency keys belong to their owner (the API key's name): the same key sent by two
 * owners names two jobs. Without this, a caller who knew or guessed another's key (or sent
 * "alice:k42", the form the API used to build from alice's Idempotency-Key header) was
 * answered alice's job with its params and result. The owner's length leads, so no choice
 * of owner name and key can collide with another pair. Jobs without an owner (auth off:
 * one tenant) keep the key as sent.
 */
export function scopedIdempotencyKey(owner: string | undefined, key: string): string {
  return owner === undefined ? key : `${owner.length}:${owner}:${key}`;
}

export function checkSubmit(input: unknown): Required<Pick<SubmitJobInput, "type" | "params" | "priority">> & SubmitJobInput {
  if (!isObject(input)) throw validation("body", "type", "job submission must be an object");
  const { type, params, priority, idempotency_key, owner } = input;
  if (typeof type !== "string" || !/^[A-Za-z0-9_.:-]{1,128}$/.test(type)) {
    throw validation("type", "pattern", "type must be a job type name (1-128 letters, digits, _ . : -)");
  }
  if (params !== undefined && !isObject(params)) throw validation("params", "type", "params must be an object");
  if (priority !== undefined && (!Number.isInteger(priority) || (priority as number) < PRIORITY_MIN || (priority as number) > PRIORITY_MAX)) {
    throw validation("priority", "range", `priority must be an integer from ${PRIORITY_MIN} to ${PRIORITY_MAX}`);
  }
  if (idempotency_key !== undefined && (typeof idempotency_key !== "string" || idempotency_key.length < 1 || idempotency_key.length > 256)) {
    throw validation("idempotency_key", "length", "idempotency_key must be a string of 1-256 characters");
  }
  if (owner !== undefined && typeof owner !== "string") throw validation("owner", "type", "owner must be a string");
  const { webhook_url } = input;
  if (webhook_url !== undefined && (typeof webhook_url !== "string" || !/^https?:\/\//i.test(webhook_url) || webhook_url.length > 2048)) {
    throw validation("webhook_url", "url", "webhook_url must be an http(s) URL of at most 2048 characters");
  }
  const out: SubmitJobInput & { params: Record<string, unknown>; priority: number } = {
    type,
    params: params ?? {},
    priority: (priority as number | undefined) ?? 0,
  };
  if (idempotency_key !== undefined) out.idempotency_key = scopedIdempotencyKey(owner as string | undefined, idempotency_key);
  if (owner !== undefined) out.owner = owner;
  if (webhook_url !== undefined) out.webhook_url = webhook_url;
  return out;
}

export function checkListFilter(f: unknown): JobListFilter {
  const src = isObject(f) ? f : {};
  const out: JobListFilter = { limit: 50, offset: 0 };
  if (src.status !== undefined) {
    if (!JOB_STATUSES.includes(src.status as JobStatus)) throw validation("status", "enum", `status must be one of ${JOB_STATUSES.join(", ")}`);
    out.status = src.status as JobStatus;
  }
  if (src.type !== undefined) {
    if (typeof src.type !== "string" || src.type.length === 0) throw validation("type", "type", "type must be a non-empty string");
    out.type = src.type;
  }
  if (src.owner !== undefined) {
    // null = jobs without an owner; a name = exactly that owner's jobs (see JobListFilter).
    if (src.owner !== null && (typeof src.owner !== "string" || src.owner.length < 1 || src.owner.length > OWNER_MAX)) {
      throw validation("owner", "length", `owner must be null or a string of 1-${OWNER_MAX} characters`);
    }
    out.owner = src.owner;
  }
  if (src.limit !== undefined) {
    if (!Number.isInteger(src.limit) || (src.limit as number) < 1 || (src.limit as number) > LIST_LIMIT_MAX) {
      throw validation("limit", "range", `limit must be an integer from 1 to ${LIST_LIMIT_MAX}`);
    }
    out.limit = src.limit as number;
  }
  if (src.offset !== undefined) {
    if (!Number.isInteger(src.offset) || (src.offset as number) < 0) throw validation("offset", "range", "offset must be an integer >= 0");
    out.offset = src.offset as number;
  }
  return out;
}

export function checkId(v: unknown, field = "job_id"): string {
  if (typeof v !== "string" || v.length === 0 || v.length > 256) throw validation(field, "type", `${field} must be a non-empty string`);
  return v;
}

export function checkToken(v: unknown): number {
  if (!Number.isInteger(v) || (v as number) < 1) throw validation("token", "type", "token must be a positive integer");
  return v as number;
}

export function checkProgress(v: unknown): number {
  if (typeof v !== "number" || !Number.isFinite(v)) throw validation("progress", "type", "progress must be a number from 0 to 100");
  return Math.min(100, Math.max(0, v));
}

export function checkReport(r: unknown): void {
  if (!isObject(r)) throw validation("report", "type", "node report must be an object");
  checkId(r.node_id, "node_id");
  for (const f of ["job_types", "gpus", "resident", "running_jobs"] as const) {
    if (r[f] !== undefined && !Array.isArray(r[f])) throw validation(f, "type", `${f} must be an array`);
  }
  if (r.leases !== undefined && !Array.isArray(r.leases)) throw validation("leases", "type", "leases must be an array");
  if (!Number.isInteger(r.max_concurrent_jobs) || (r.max_concurrent_jobs as number) < 0) {
    throw validation("max_concurrent_jobs", "type", "max_concurrent_jobs must be an integer >= 0");
  }
}
