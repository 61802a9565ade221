/** Building a new job record, and the fail-fast error when no node could ever run it. */
import { randomUUID } from "node:crypto";
import { FarmError } from "../core/errors.ts";
import type { JobHistoryEntry, JobRecord, JobRequirements, SubmitJobInput } from "../core/job.ts";
import type { Placement } from "./scheduler.ts";
import { createdAs, type StatusPatch } from "./state-machine.ts";

export function newJobRecord(
  inp: SubmitJobInput & { params: Record<string, unknown>; priority: number },
  requirements: JobRequirements,
  now: number,
  maxAttempts: number,
): JobRecord {
  const rec: JobRecord = {
    id: randomUUID(),
    type: inp.type,
    params: inp.params,
    priority: inp.priority,
    status: "pending",
    progress: 0,
    created_at: now,
    updated_at: now,
    attempts: 0,
    max_attempts: maxAttempts,
    requirements,
    history: [{ at: now, event: "submitted" }],
  };
  if (inp.idempotency_key !== undefined) rec.idempotency_key = inp.idempotency_key;
  if (inp.owner !== undefined) rec.owner = inp.owner;
  if (inp.webhook_url !== undefined) rec.webhook = { url: inp.webhook_url, state: "pending", attempts: [] };
  return rec;
}

/** What granting a job to the node `d` chose writes besides the status (pending -> running): its running fields and the history entry. */
export function grantWrite(d: Placement, now: number): { patch: StatusPatch; history: JobHistoryEntry } {
  const nodeId = d.node_id!;
  return {
    patch: { node_id: nodeId, started_at: now, updated_at: now, progress: 0 },
    history: { at: now, event: "dispatched", node_id: nodeId, reason: d.summary },
  };
}

/**
 * The same new job, created already running on the node `d` chose: the grant's fields,
 * its first lease (fencing token 1, since no earlier lease exists) and first attempt.
 */
export function grantedAtSubmit(rec: JobRecord, d: Placement, now: number, leaseMs: number): JobRecord {
  const { patch, history } = grantWrite(d, now);
  const running = createdAs(rec, "running", patch);
  running.attempts = 1;
  running.lease = { node_id: d.node_id!, token: 1, expires_at: now + leaseMs };
  running.history = [...rec.history, history];
  return running;
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
