/**
 * Query strings as people and tools write them. A form or a script that builds
 * `?limit=&status=running` means "no limit given", so an empty value counts as absent (the
 * default applies) instead of a 400 "must be integer". A parameter given twice
 * (`limit=1&limit=2`) reached Ajv as an array and came back as "limit must be integer";
 * it is refused here with a message naming the repetition. Parameters the route's schema
 * declares as arrays keep their repeats.
 */
import type { FastifyInstance } from "fastify";
import { validationAt } from "../core/errors.ts";

interface QuerySchema {
  properties?: Record<string, { type?: unknown } | undefined>;
}

const allowsArray = (prop: { type?: unknown } | undefined): boolean =>
  prop !== undefined && (prop.type === "array" || (Array.isArray(prop.type) && prop.type.includes("array")));

export function installQueryParams(app: FastifyInstance): void {
  app.addHook("preValidation", async (req) => {
    // Fastify runs hooks for its not-found handler too: an unknown path stays a 404.
    if (req.is404) return;
    const query = req.query as Record<string, unknown> | undefined;
    if (!query || typeof query !== "object") return;
    const schema = req.routeOptions.schema?.querystring as QuerySchema | undefined;
    for (const [key, value] of Object.entries(query)) {
      if (value === "") {
        delete query[key];
      } else if (Array.isArray(value) && !allowsArray(schema?.properties?.[key])) {
        const given = value.filter((v) => v !== "");
        if (given.length <= 1) {
          if (given.length === 0) delete query[key];
          else query[key] = given[0];
          continue;
        }
        throw validationAt(key, "repeated", `given ${given.length} times (${given.map((v) => `${key}=${String(v)}`).join("&")}); give it once`);
      }
    }
  });
}
