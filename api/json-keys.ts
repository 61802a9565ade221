/**
 * Fastify's JSON parser (secure-json-parse) refuses a body holding a `__proto__` key or a
 * `constructor` object with a `prototype` key, so that no handler can pollute object
 * prototypes with it, but it reports that as FST_ERR_CTP_INVALID_JSON_BODY: "not valid
 * JSON" for a body that is valid JSON sends the caller looking for a typo. This names the key.
 */
import { FarmError } from "../core/errors.ts";

/** The 400 for a body refused only for such a key, or null when `text` is not valid JSON at all. */
export function refusedKeyError(text: string): FarmError | null {
  let key: string | undefined;
  try {
    // JSON.parse itself makes `__proto__` an own data property (no pollution); the reviver
    // only looks, and returns each value unchanged.
    JSON.parse(text, (k, v: unknown) => {
      if (key === undefined && k === "__proto__") key = "__proto__";
      if (key === undefined && k === "constructor" && typeof v === "object" && v !== null && Object.hasOwn(v, "prototype")) key = "constructor.prototype";
      return v;
    });
  } catch {
    return null;
  }
  if (key === undefined) return null;
  return new FarmError("VALIDATION_ERROR", `request body may not contain a '${key}' key (refused: it could pollute object prototypes)`, {
    field: "body",
    constraint: "forbidden_key",
  });
}
