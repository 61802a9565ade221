/**
 * The one error catalog. Every error the farm raises has a stable code, an HTTP status
 * and a `retryable` flag. Errors cross the mesh as plain objects ({code, message,
 * details}) and are rebuilt here by code, never by `instanceof`.
 */

export interface ErrorSpec {
  status: number;
  retryable: boolean;
  description: string;
}

export const ERROR_CATALOG = {
  // The spec's codes.
  VALIDATION_ERROR: { status: 400, retryable: false, description: "Invalid input" },
  NOT_FOUND: { status: 404, retryable: false, description: "Resource not found" },
  RATE_LIMITED: { status: 429, retryable: true, description: "Too many requests" },
  GPU_ERROR: { status: 500, retryable: true, description: "GPU processing error" },
  MODEL_ERROR: { status: 500, retryable: false, description: "Model loading error (weights missing or broken)" },
  EXTERNAL_API_ERROR: { status: 502, retryable: true, description: "External service error" },
  // The farm's own, in the same envelope.
  UNAUTHORIZED: { status: 401, retryable: false, description: "Missing or unknown API key" },
  FORBIDDEN: { status: 403, retryable: false, description: "API key lacks the scope for this action" },
  CONFLICT: { status: 409, retryable: false, description: "The resource is in a state that does not allow this" },
  PAYLOAD_TOO_LARGE: { status: 413, retryable: false, description: "Request body or upload too large" },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, retryable: false, description: "Unsupported content type" },
  RANGE_NOT_SATISFIABLE: { status: 416, retryable: false, description: "The Range header asks for bytes the file does not have" },
  HEADERS_TOO_LARGE: { status: 431, retryable: false, description: "The request line and headers exceed the server's limit (16 KB)" },
  CAPABILITY_UNAVAILABLE: { status: 503, retryable: true, description: "No node offers the capability (job type or model)" },
  SERVICE_UNAVAILABLE: { status: 503, retryable: true, description: "A farm service is not reachable" },
  STALE_LEASE: { status: 409, retryable: false, description: "Lease was re-granted; the report was ignored" },
  JOB_FAILED: { status: 500, retryable: false, description: "The job failed" },
  JOB_CANCELLED: { status: 409, retryable: false, description: "The job was cancelled" },
  TIMEOUT: { status: 504, retryable: true, description: "The operation timed out" },
  NODE_LOST: { status: 503, retryable: true, description: "The node running the job disappeared" },
  INTERNAL_ERROR: { status: 500, retryable: false, description: "Unexpected server error" },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export interface ErrorDetails {
  field?: string;
  constraint?: string;
  [key: string]: unknown;
}

/** The wire form of an error (mesh messages, stored job errors). */
export interface SerializedError {
  code: ErrorCode;
  message: string;
  details?: ErrorDetails;
}

export class FarmError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  readonly details: ErrorDetails | undefined;

  constructor(code: ErrorCode, message: string, details?: ErrorDetails, retryable?: boolean) {
    super(message);
    this.name = "FarmError";
    this.code = code;
    const spec: ErrorSpec = ERROR_CATALOG[code] ?? ERROR_CATALOG.INTERNAL_ERROR;
    this.status = spec.status;
    this.retryable = retryable ?? spec.retryable;
    this.details = details;
  }

  /** Moleculer serialises `data` and `type` across the mesh; the catalog code survives in both. */
  get data(): SerializedError {
    return this.toJSON();
  }
  get type(): ErrorCode {
    return this.code;
  }

  toJSON(): SerializedError {
    return this.details === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, details: this.details };
  }
}

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === "string" && Object.prototype.hasOwnProperty.call(ERROR_CATALOG, code);
}

const STORE_DOWN = /Connection is closed|Reached the max retries per request limit|Stream isn't writeable|connect ECONNREFUSED|ECONNRESET/;

/** Rebuild a FarmError from anything: a FarmError, a serialized one, a Moleculer error, a plain Error. */
export function toFarmError(err: unknown): FarmError {
  if (err instanceof FarmError) return err;
  if (err && typeof err === "object") {
    const e = err as { code?: unknown; type?: unknown; message?: unknown; details?: unknown; data?: unknown };
    // Moleculer rebuilds remote errors as MoleculerError with our payload in `data`.
    const data = e.data as { code?: unknown; message?: unknown; details?: unknown } | undefined;
    if (data && isErrorCode(data.code)) {
      return new FarmError(data.code, String(data.message ?? e.message ?? data.code), data.details as ErrorDetails | undefined);
    }
    if (isErrorCode(e.code)) return new FarmError(e.code, String(e.message ?? e.code), e.details as ErrorDetails | undefined);
    if (isErrorCode(e.type)) return new FarmError(e.type, String(e.message ?? e.type), e.details as ErrorDetails | undefined);
    if (e.code === "REQUEST_TIMEOUT" || e.type === "REQUEST_TIMEOUT") return new FarmError("TIMEOUT", String(e.message ?? "request timed out"));
    if (e.type === "SERVICE_NOT_FOUND" || e.type === "SERVICE_NOT_AVAILABLE") {
      return new FarmError("SERVICE_UNAVAILABLE", String(e.message ?? "service not available"));
    }
    // Moleculer's "Request is rejected when call ...": the node was declared gone (or could
    // not be sent to) while the call was pending. The node went away, the farm did not
    // break: 503, retryable, like a service that is not found.
    if (e.type === "REQUEST_REJECTED") {
      return new FarmError("SERVICE_UNAVAILABLE", String(e.message ?? "request rejected: the node went away"), { constraint: "node_gone" });
    }
    // A store the farm depends on is down (ioredis' words for it): the request may succeed
    // later, so 503 with the reason, not a 500 that reads like a bug.
    if (typeof e.message === "string" && STORE_DOWN.test(e.message)) return new FarmError("SERVICE_UNAVAILABLE", `a farm store is not reachable: ${e.message}`);
    if (typeof e.message === "string") return new FarmError("INTERNAL_ERROR", e.message);
  }
  return new FarmError("INTERNAL_ERROR", String(err));
}

/** The one VALIDATION_ERROR builder: 400 naming the field and the constraint it broke. */
export const validation = (field: string, constraint: string, message: string, extra?: ErrorDetails) =>
  new FarmError("VALIDATION_ERROR", message, { field, constraint, ...extra });
/** The same, with the message led by the field ("audio.path: not an audio file"), for checks whose message alone would not say which input it is about. */
export const validationAt = (field: string, constraint: string, message: string, extra?: ErrorDetails) =>
  validation(field, constraint, `${field}: ${message}`, extra);
export const notFound = (what: string, id: string) => new FarmError("NOT_FOUND", `${what} '${id}' not found`, { field: what, constraint: "exists" });
