/**
 * operationIds for the OpenAPI document, derived from method and path so that every route
 * has one without each route repeating it: `POST /api/v1/generate/image` -> `postGenerateImage`,
 * `GET /api/v1/jobs/:job_id` -> `getJobsByJobId`, `GET /ws/:job_id` -> `getWsByJobId`.
 * A route may still set `schema.operationId` itself.
 */
const camel = (s: string) =>
  s
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join("");

export function operationIdFor(method: string, url: string): string {
  const parts = url
    .replace(/^\/api\/v\d+\//, "/")
    .split("/")
    .filter(Boolean)
    .map((seg) => {
      const param = /^[:{](.+?)}?$/.exec(seg);
      return param ? `By${camel(param[1]!)}` : camel(seg);
    });
  return method.toLowerCase() + (parts.join("") || "Root");
}
