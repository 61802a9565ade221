/**
 * Two Ajv instances: query strings and path params arrive as text, so they are coerced
 * ("10" -> 10); JSON bodies are not, so a wrong type is a VALIDATION_ERROR naming the
 * field instead of being quietly converted ("a cat" silently becoming ["a cat"]).
 */
import { Ajv, type Options } from "ajv";
import addFormats from "ajv-formats";
import type { FastifyInstance } from "fastify";

const base: Options = { removeAdditional: false, useDefaults: true, allErrors: false, allowUnionTypes: true, strict: false, verbose: true };
// verbose: errors carry their sub-schema, so a forgiving-name pattern is reported as its list of names (api/errors.ts).

export function installValidators(app: FastifyInstance): void {
  const body = new Ajv({ ...base, coerceTypes: false });
  const text = new Ajv({ ...base, coerceTypes: "array" });
  for (const a of [body, text]) {
    addFormats.default(a);
    a.addKeyword("example");
  }
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === "body" ? body : text).compile(schema));
}
