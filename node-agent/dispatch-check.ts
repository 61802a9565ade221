/**
 * The agent's check of a dispatched task before anything else looks at it: a malformed task
 * (a foreign or hand-written sender, a version mismatch) is a VALIDATION_ERROR naming the
 * field, never a crash further in.
 */
import type { DispatchTask } from "../core/mesh-contract.ts";
import { validation } from "../core/errors.ts";

export function validateDispatch(t: DispatchTask): void {
  const bad = validation;
  if (!t || typeof t !== "object") throw bad("task", "object", "task must be an object");
  if (typeof t.job_id !== "string" || t.job_id.length === 0) throw bad("job_id", "string", "job_id must be a non-empty string");
  if (typeof t.type !== "string" || t.type.length === 0) throw bad("type", "string", "type must be a non-empty string");
  if (!Number.isInteger(t.token)) throw bad("token", "integer", "token must be an integer");
  if (!Number.isInteger(t.attempt) || t.attempt < 0) throw bad("attempt", "integer >= 0", "attempt must be an integer >= 0");
  if (t.params === null || typeof t.params !== "object" || Array.isArray(t.params)) throw bad("params", "object", "params must be an object");
  if (t.gpu_index !== null && t.gpu_index !== undefined && (!Number.isInteger(t.gpu_index) || t.gpu_index < 0)) {
    throw bad("gpu_index", "integer >= 0 or null", "gpu_index must be a GPU index or null");
  }
  if (t.model !== undefined && typeof t.model !== "string") throw bad("model", "string", "model must be a string");
  // Checked before startTask compares it: a string or null taken as the epoch broke the fence (HA).
  if (t.epoch !== undefined && (!Number.isSafeInteger(t.epoch) || t.epoch <= 0)) {
    throw bad("epoch", "integer > 0", "epoch must be a positive integer (the leader epoch of the coordinator that sent the task)");
  }
}
