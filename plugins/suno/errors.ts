/** FarmErrors the suno plugin raises, in one place so codes and details stay consistent. */
import { FarmError } from "../../core/errors.ts";

/**
 * The bridge failed us. `constraint` says how (unreachable, timeout, http_status,
 * invalid_response, clip_error, max_wait_s, credits, download...). `retryable` defaults
 * to the catalog's (true); callers pass false once Suno has charged credits, so an
 * automatic retry does not pay for the same songs twice.
 */
export function bridgeError(message: string, constraint: string, extra: Record<string, unknown> = {}, retryable?: boolean): FarmError {
  return new FarmError("EXTERNAL_API_ERROR", message, { field: "suno", constraint, ...extra }, retryable);
}

/** The job's signal fired: a FarmError reason (e.g. from the agent) wins, else JOB_CANCELLED. */
export function cancelled(signal: AbortSignal, what = "suno job cancelled"): FarmError {
  return signal.reason instanceof FarmError ? signal.reason : new FarmError("JOB_CANCELLED", what);
}

/** Resolve after `ms`; reject with cancelled() as soon as the signal aborts. */
export function sleepAbortable(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(cancelled(signal));
    const onAbort = () => {
      clearTimeout(t);
      reject(cancelled(signal));
    };
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
