/** The spec's public shape of a job (GET /api/v1/jobs/{id}), plus a few fields operators need. */
import type { JobRecord } from "../core/job.ts";

export interface JobView {
  job_id: string;
  type: string;
  status: JobRecord["status"];
  progress: number;
  message: string | null;
  /** A cancel was asked of a running job and the agent was told; status turns `cancelled` once it stops. */
  cancel_requested: boolean;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  finished_at: string | null;
  priority: number;
  attempts: number;
  node_id: string | null;
  result: Record<string, unknown> | null;
  error: string | null;
  error_code: string | null;
  error_details: Record<string, unknown> | null;
  /** The job's webhook and its delivery attempts (coordinator/webhooks); null without one. */
  webhook: WebhookView | null;
}

export interface WebhookView {
  url: string;
  state: "pending" | "delivered" | "failed";
  attempts: { at: string; status: number | null; error: string | null; ms: number }[];
  next_at: string | null;
}

function webhookView(w: JobRecord["webhook"]): WebhookView | null {
  if (!w) return null;
  return {
    url: w.url,
    state: w.state,
    attempts: w.attempts.map((a) => ({ at: new Date(a.at).toISOString(), status: a.status ?? null, error: a.error ?? null, ms: a.ms })),
    next_at: iso(w.next_at),
  };
}

/**
 * Progress as the API and the WebSocket show it: a whole percentage, as the spec's examples
 * (65). Producers (agents' reports, chains' "n of N", batch parents) keep their exact
 * fraction in the store; this is the one place it is rounded for clients. Rounded down, so
 * a job at 99.5 % does not show 100 while it still runs (only completion writes 100).
 */
export function wholeProgress(p: number): number {
  return Math.min(100, Math.max(0, Math.floor(p)));
}

const iso = (t: number | undefined) => (t ? new Date(t).toISOString() : null);

export function toJobView(j: JobRecord): JobView {
  return {
    job_id: j.id,
    type: j.type,
    status: j.status,
    progress: wholeProgress(j.progress),
    message: j.message ?? null,
    cancel_requested: j.cancel_requested === true,
    created_at: new Date(j.created_at).toISOString(),
    updated_at: new Date(j.updated_at).toISOString(),
    started_at: iso(j.started_at),
    finished_at: iso(j.finished_at),
    priority: j.priority,
    attempts: j.attempts,
    node_id: j.node_id ?? null,
    result: j.result ?? null,
    error: j.error?.message ?? null,
    error_code: j.error?.code ?? null,
    error_details: (j.error?.details as Record<string, unknown> | undefined) ?? null,
    webhook: webhookView(j.webhook),
  };
}

export const jobViewSchema = {
  type: "object",
  properties: {
    job_id: { type: "string" },
    type: { type: "string" },
    status: { type: "string", enum: ["pending", "running", "completed", "failed", "cancelled"] },
    progress: { type: "integer", minimum: 0, maximum: 100, description: "Percent done, whole" },
    message: { type: ["string", "null"] },
    cancel_requested: {
      type: "boolean",
      description: "True once a cancel was asked of a running job: the agent is told, and status turns cancelled when it stops",
    },
    created_at: { type: "string", format: "date-time" },
    updated_at: { type: "string", format: "date-time" },
    started_at: { type: ["string", "null"] },
    finished_at: { type: ["string", "null"] },
    priority: { type: "integer" },
    attempts: { type: "integer" },
    node_id: { type: ["string", "null"] },
    result: { type: ["object", "null"], additionalProperties: true },
    error: { type: ["string", "null"] },
    error_code: { type: ["string", "null"] },
    error_details: { type: ["object", "null"], additionalProperties: true },
    webhook: {
      type: ["object", "null"],
      description: "The job's webhook (webhook_url on the request, or the API key's default) and every delivery attempt",
      properties: {
        url: { type: "string" },
        state: { type: "string", enum: ["pending", "delivered", "failed"] },
        attempts: {
          type: "array",
          items: {
            type: "object",
            properties: { at: { type: "string" }, status: { type: ["integer", "null"] }, error: { type: ["string", "null"] }, ms: { type: "number" } },
          },
        },
        next_at: { type: ["string", "null"] },
      },
    },
  },
} as const;
