/**
 * The spec's error envelope for every failure: {error: true, code, message, details, timestamp}.
 * Fastify's own errors (schema validation, bad JSON, body too large, 404) are mapped to
 * catalog codes here; stacks never leave the server.
 */
import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { FarmError, toFarmError, type ErrorDetails } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import { namedValues } from "../core/job-types/names.ts";

export interface ErrorEnvelope {
  error: true;
  code: string;
  message: string;
  details: ErrorDetails;
  timestamp: string;
}

export function envelope(err: FarmError): ErrorEnvelope {
  return { error: true, code: err.code, message: err.message, details: err.details ?? {}, timestamp: new Date().toISOString() };
}

interface AjvErrorLike {
  keyword: string;
  instancePath?: string;
  params?: Record<string, unknown>;
  message?: string;
  /** The failing keyword's schema object (the validators compile with `verbose`). */
  parentSchema?: unknown;
}

/** "/clips/2/path" -> "clips[2].path" */
export function fieldPath(instancePath: string, extra?: string): string {
  const parts = instancePath.split("/").filter(Boolean);
  if (extra) parts.push(extra);
  return parts.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), "");
}

export function fromValidation(err: FastifyError): FarmError {
  const v = (err.validation ?? []) as AjvErrorLike[];
  const first = v[0];
  const ctxName = err.validationContext ?? "body";
  if (!first) return new FarmError("VALIDATION_ERROR", err.message, { field: ctxName, constraint: "schema" });
  const params = first.params ?? {};
  let field = fieldPath(first.instancePath ?? "");
  let constraint = first.keyword;
  let message: string;
  let allowed: string[] | undefined;
  switch (first.keyword) {
    case "required":
      field = fieldPath(first.instancePath ?? "", String(params.missingProperty));
      message = `${field} is required`;
      break;
    case "additionalProperties":
      constraint = "unknown_field";
      if (params.additionalProperty === "") {
        // `?=x` or `{"": 1}`: a key with no name would read " is not a known field".
        field = fieldPath(first.instancePath ?? "");
        message = `${field || ctxName} has a key with an empty name, which is not a known field`;
      } else {
        field = fieldPath(first.instancePath ?? "", String(params.additionalProperty));
        message = `${field} is not a known field`;
      }
      break;
    case "enum":
      message = `${field || ctxName} must be one of: ${(params.allowedValues as unknown[] | undefined)?.join(", ")}`;
      break;
    case "type":
      message = `${field || ctxName} must be ${String(params.type)}`;
      break;
    case "pattern": {
      // A NameOf field (core/job-types/names.ts): list its names, not the regex.
      const names = namedValues(first.parentSchema);
      if (names) {
        constraint = "enum";
        allowed = names;
        message = `${field || ctxName} must be one of: ${names.join(", ")} (case, spaces and hyphens ignored)`;
      } else message = `${field || ctxName} ${first.message ?? "is invalid"}`;
      break;
    }
    default:
      message = `${field || ctxName} ${first.message ?? "is invalid"}`;
  }
  const details: ErrorDetails = { field: field || ctxName, constraint };
  if (first.keyword === "enum") details.allowed = params.allowedValues;
  if (allowed) details.allowed = allowed;
  if (v.length > 1)
    details.problems = v
      .slice(0, 10)
      .map(
        (e) =>
          `${fieldPath(e.instancePath ?? "", e.keyword === "required" ? String(e.params?.missingProperty) : undefined) || ctxName}: ${e.message ?? e.keyword}`,
      );
  return new FarmError("VALIDATION_ERROR", message, details);
}

export function mapError(err: unknown): FarmError {
  const fe = err as FastifyError;
  if (fe && typeof fe === "object" && Array.isArray(fe.validation)) return fromValidation(fe);
  const code = (fe as { code?: string })?.code;
  switch (code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new FarmError("PAYLOAD_TOO_LARGE", "request body is too large", { field: "body", constraint: "max_size" });
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new FarmError("UNSUPPORTED_MEDIA_TYPE", "unsupported content type: send application/json", { field: "content-type", constraint: "media_type" });
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return new FarmError("VALIDATION_ERROR", "request body is empty", { field: "body", constraint: "required" });
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return new FarmError("VALIDATION_ERROR", "request body is not valid JSON", { field: "body", constraint: "json" });
    default:
      break; // other errors (and errors without a code) are mapped below
  }
  if (fe instanceof SyntaxError || ((fe as { statusCode?: number })?.statusCode === 400 && /JSON/i.test(String(fe?.message)))) {
    return new FarmError("VALIDATION_ERROR", "request body is not valid JSON", { field: "body", constraint: "json" });
  }
  if ((fe as { statusCode?: number })?.statusCode === 413)
    return new FarmError("PAYLOAD_TOO_LARGE", String(fe.message), { field: "body", constraint: "max_size" });
  if ((fe as { statusCode?: number })?.statusCode === 415)
    return new FarmError("UNSUPPORTED_MEDIA_TYPE", String(fe.message), { field: "content-type", constraint: "media_type" });
  return toFarmError(err);
}

/** How much of an over-limit body is read and discarded before the 413, and for how long at most. */
export const LINGER_MAX_BYTES = 64 * 1024 * 1024;
export const LINGER_MS = 2000;

/** Calls `then` once `body` has ended (or broken), or after LINGER_MAX_BYTES / LINGER_MS of it: whichever comes first. */
export function drainThen(body: NodeJS.ReadableStream & { readableEnded?: boolean; destroyed?: boolean }, then: () => void): void {
  if (body.readableEnded || body.destroyed) return then();
  let done = false;
  let read = 0;
  const finish = () => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    body.removeListener("data", onData);
    body.removeListener("end", finish);
    body.removeListener("error", finish);
    body.removeListener("close", finish);
    then();
  };
  const onData = (chunk: Buffer | string) => {
    read += chunk.length;
    if (read >= LINGER_MAX_BYTES) finish();
  };
  const timer = setTimeout(finish, LINGER_MS);
  body.on("data", onData);
  body.once("end", finish);
  body.once("error", finish);
  body.once("close", finish);
  body.resume();
}

export function installErrorHandling(app: FastifyInstance, logger: Logger): void {
  app.setErrorHandler((err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    const fe = mapError(err);
    if (fe.status >= 500 && fe.code === "INTERNAL_ERROR") logger.error("request failed", { url: req.url, err: String((err as Error)?.stack ?? err) });
    if (fe.code === "RATE_LIMITED" && fe.details?.retry_after_s) reply.header("retry-after", String(fe.details.retry_after_s));
    const send = () => void reply.status(fe.status).send(envelope(fe));
    // A body over the limit is answered before it was read, with Connection: close: closing
    // a socket whose receive buffer still holds the client's unread upload makes the kernel
    // send a reset, and a client still writing never reads the 413 (the fuzz's 10 "no
    // answer" cases, >4 MB bodies on a raw socket). So read and discard the rest first, up
    // to LINGER_MAX_BYTES or LINGER_MS (a lingering close), then answer and close.
    if (fe.code === "PAYLOAD_TOO_LARGE") drainThen(req.raw, send);
    else send();
  });
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split("?")[0] ?? req.url;
    void reply.status(404).send(envelope(new FarmError("NOT_FOUND", `no route ${req.method} ${path}`, { field: "path", constraint: "route" })));
  });
}

/**
 * Errors Fastify's router raises before any hook runs (Fastify's `frameworkErrors`): a path
 * segment with broken percent-encoding, or a path parameter past maxParamLength (100
 * characters, longer than any id). They answered Fastify's own shape (and 414) echoing the
 * whole URL; here they get the envelope, naming the path and without echoing it.
 */
export function frameworkError(err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  const e =
    err.code === "FST_ERR_MAX_PARAM_LENGTH"
      ? new FarmError("VALIDATION_ERROR", "a path parameter is too long (at most 100 characters)", { field: "path", constraint: "max_length:100" })
      : err.code === "FST_ERR_BAD_URL"
        ? new FarmError("VALIDATION_ERROR", "the path is not valid percent-encoding", { field: "path", constraint: "url_encoding" })
        : new FarmError("VALIDATION_ERROR", "the request could not be routed", { field: "path", constraint: "routable" });
  void reply.code(e.status).type("application/json").send(envelope(e));
}

/**
 * Requests Node's HTTP parser refuses before Fastify sees them (Fastify's `clientErrorHandler`):
 * a request line plus headers over 16 KB (a long query string) answered Fastify's own
 * `{error: "Request Header Fields Too Large", statusCode: 431}` (found by the fuzzer); now
 * the envelope. Other parse errors are a 400 naming the request.
 */
export function clientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === "ECONNRESET" || !socket.writable) return void socket.destroy();
  if (err.code === "ERR_HTTP_REQUEST_TIMEOUT") {
    // A client too slow to send its headers: nothing to name, and Fastify's 408 is fine.
    return void socket.end("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  }
  const e =
    err.code === "HPE_HEADER_OVERFLOW"
      ? new FarmError("HEADERS_TOO_LARGE", "the request line and headers exceed 16 KB (send long inputs in the body)", {
          field: "headers",
          constraint: "max_size",
        })
      : new FarmError("VALIDATION_ERROR", "the request is not valid HTTP/1.1", { field: "request", constraint: "http" });
  const body = JSON.stringify(envelope(e));
  socket.end(
    `HTTP/1.1 ${e.status} ${STATUS_CODES[e.status] ?? ""}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
