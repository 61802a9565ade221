/**
 * ComfyUI failures as the farm's catalog errors (core/errors.ts).
 *
 * - A workflow ComfyUI refuses (400 + node_errors) is MODEL_ERROR: the template is ours and the
 *   weights are the operator's, so the user's request is not at fault and a retry elsewhere
 *   would fail the same way (MODEL_ERROR is not retryable).
 * - An out-of-memory execution_error is GPU_ERROR (retryable: another GPU, or the same one
 *   after eviction, may fit it).
 * - Any other execution_error is MODEL_ERROR naming the node and the exception.
 * - ComfyUI unreachable or its websocket closing mid-job means the process died: GPU_ERROR,
 *   which the catalog marks retryable, so the farm re-runs the job per its retry policy.
 */
import { FarmError } from "../../../core/errors.ts";
import type { ComfyErrorItem, ComfyExecutionErrorData, ComfyNodeErrors, ComfyPromptErrorBody } from "./types.ts";

/** POST /prompt answered 400. `nodeErrors` is ComfyUI's node_errors, unchanged. */
export class ComfyPromptError extends FarmError {
  readonly nodeErrors: ComfyNodeErrors;
  readonly comfyError: ComfyErrorItem;

  constructor(nodeErrors: ComfyNodeErrors, message: string, comfyError?: ComfyErrorItem) {
    super("MODEL_ERROR", message, { reason: "comfyui_validation", comfy_error: comfyError, node_errors: nodeErrors });
    this.name = "ComfyPromptError";
    this.nodeErrors = nodeErrors;
    this.comfyError = comfyError ?? { type: "invalid_prompt", message, details: "" };
  }

  /** Builds the error from the 400 body, naming each failing node, its class and ComfyUI's reason. */
  static fromBody(body: ComfyPromptErrorBody): ComfyPromptError {
    const err: ComfyErrorItem = typeof body.error === "string" ? { type: body.error.replace(/\s+/g, "_"), message: body.error, details: "" } : body.error;
    const nodeErrors: ComfyNodeErrors = Array.isArray(body.node_errors) ? {} : body.node_errors;
    const parts = Object.entries(nodeErrors).map(([id, ne]) => {
      const reasons = ne.errors.map((e) => (e.details ? `${e.message}: ${e.details}` : e.message)).join("; ");
      return `node ${id} (${ne.class_type}): ${reasons}`;
    });
    // Workflow-level errors (unknown class_type, no outputs) carry the node in `details` ("Node ID '#4'").
    const head = `ComfyUI rejected the workflow (${err.type}): ${err.message}`;
    const tail = parts.length > 0 ? parts.join(" | ") : err.details;
    return new ComfyPromptError(nodeErrors, tail ? `${head}: ${tail}` : head, err);
  }
}

/** True for the exception types torch raises on CUDA/ROCm/MPS allocation failure. */
export function isOutOfMemory(e: Pick<ComfyExecutionErrorData, "exception_type" | "exception_message">): boolean {
  return /OutOfMemoryError/.test(e.exception_type) || /out of memory|Allocation on device/i.test(e.exception_message);
}

/** The `execution_error` websocket message as a FarmError. */
export function executionError(e: ComfyExecutionErrorData): FarmError {
  // ComfyUI appends multi-line "TIPS" to OOM messages; the first line is the one a person needs.
  const firstLine = e.exception_message.split("\n")[0]?.trim() ?? "";
  const details = {
    reason: "comfyui_execution_error",
    node_id: e.node_id,
    node_type: e.node_type,
    exception_type: e.exception_type,
    exception_message: e.exception_message,
  };
  if (isOutOfMemory(e)) {
    return new FarmError("GPU_ERROR", `out of memory in node ${e.node_id} (${e.node_type}): ${firstLine}`, { ...details, reason: "out_of_memory" });
  }
  return new FarmError("MODEL_ERROR", `node ${e.node_id} (${e.node_type}) failed: ${e.exception_type}: ${firstLine}`, details);
}

/** ComfyUI went away (connection refused/reset, websocket closed mid-job): retryable. */
export function comfyLost(baseUrl: string, what: string): FarmError {
  return new FarmError("GPU_ERROR", `ComfyUI at ${baseUrl} is gone: ${what}`, { reason: "comfyui_lost", base_url: baseUrl }, true);
}

/** A route answered an unexpected status. 5xx from ComfyUI is a server fault: retryable. */
export function comfyHttpError(baseUrl: string, method: string, route: string, status: number, body: string): FarmError {
  const snippet = body.length > 300 ? `${body.slice(0, 300)}…` : body;
  return new FarmError(
    "GPU_ERROR",
    `ComfyUI ${method} ${route} answered ${status}${snippet ? `: ${snippet}` : ""}`,
    { reason: "comfyui_http", base_url: baseUrl, status },
    status >= 500,
  );
}

/** The AbortError run() rejects with after an abort signal, like fetch's. */
export function abortError(reason: unknown): Error {
  const why = reason instanceof Error ? reason.message : reason === undefined ? "aborted" : String(reason);
  return new DOMException(`ComfyUI run aborted: ${why}`, "AbortError");
}
