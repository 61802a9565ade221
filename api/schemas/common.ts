/** Schemas shared by routes: the error envelope (documented on every route) and media references. */
export const errorEnvelopeSchema = {
  type: "object",
  description: "The spec's error envelope",
  required: ["error", "code", "message", "details", "timestamp"],
  properties: {
    error: { type: "boolean", const: true },
    code: { type: "string" },
    message: { type: "string" },
    details: { type: "object", additionalProperties: true },
    timestamp: { type: "string", format: "date-time" },
  },
} as const;

export const errorResponses = {
  400: errorEnvelopeSchema,
  401: errorEnvelopeSchema,
  403: errorEnvelopeSchema,
  404: errorEnvelopeSchema,
  409: errorEnvelopeSchema,
  413: errorEnvelopeSchema,
  415: errorEnvelopeSchema,
  429: errorEnvelopeSchema,
  500: errorEnvelopeSchema,
  502: errorEnvelopeSchema,
  503: errorEnvelopeSchema,
} as const;

export const acceptedSchema = {
  type: "object",
  description: "Returned with ?async=true, or when a synchronous wait ran out: the job keeps running",
  properties: { job_id: { type: "string" }, status: { type: "string" }, status_url: { type: "string" }, ws_url: { type: "string" } },
} as const;

/** A media input: upload/artifact reference ("artifact:<key>", "upload:<sha256>"), base64 / data URL, a server path inside the data directories, or an http(s) URL when enabled. */
export const mediaRef = (description: string, maxLength = 40_000_000) => ({ type: "string", minLength: 1, maxLength, description }) as const;
