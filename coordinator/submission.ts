/** Building a new job record, and the fail-fast error when no node could ever run it. */
import { randomUUID } from "node:crypto";
import { FarmError } from "../core/errors.ts";
import type { JobRecord, JobRequirements, SubmitJobInput } from "../core/job.ts";
import type { Placement } from "./scheduler.ts";

export function newJobRecord(
  inp: SubmitJobInput & { params: Record<string, unknown>; priority: number },
  requirements: JobRequirements,
  now: number,
  maxAttempts: number,
): JobRecord {
  const rec: JobRecord = {
    id: randomUUID(), type: inp.type, params: inp.params, priority: inp.priority, status: "pending", progress: 0,
    created_at: now, updated_at: now, attempts: 0, max_attempts: maxAttempts, requirements,
    history: [{ at: now, event: "submitted" }],
  };
  if (inp.idempotency_key !== undefined) rec.idempotency_key = inp.idempotency_key;
  if (inp.owner !== undefined) rec.owner = inp.owner;
  return rec;
}

/**
 * The same new job, created already running on the node `d` chose: its first lease
 * (fencing token 1, since no earlier lease exists) and the dispatch in its history.
 */
export function grantedAtSubmit(rec: JobRecord, d: Placement, now: number, leaseMs: number): JobRecord {
  const nodeId = d.node_id!;
  return {
    ...rec, status: "running", node_id: nodeId, started_at: now, attempts: 1,
    lease: { node_id: nodeId, token: 1, expires_at: now + leaseMs },
    history: [...rec.history, { at: now, event: "dispatched", node_id: nodeId, reason: d.summary }],
  };
}

/** CAPABILITY_UNAVAILABLE (503): the message names what is missing; details carry the per-node reasons. */
export function capabilityError(d: Placement, type: string, requirements: JobRequirements): FarmError {
  const modelMissing = requirements.model !== undefined && d.summary.includes(`model '${requirements.model}'`);
  return new FarmError("CAPABILITY_UNAVAILABLE", d.summary, {
    field: modelMissing ? "params.model" : "type",
    constraint: "capability",
    job_type: type,
    ...(requirements.model !== undefined ? { model: requirements.model } : {}),
    reasons: d.reasons,
  });
}
