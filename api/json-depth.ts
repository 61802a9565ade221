/**
 * A nesting limit for JSON bodies. V8's JSON.parse is iterative and parses 100,000 levels
 * without trouble, but much of what runs after it is recursive (schema validation, the
 * job store's stringify/freeze, the mesh serializer): `params` nested 5,000 deep ended in
 * "Maximum call stack size exceeded" and a 500. The check runs on the parsed value, before
 * anything else sees it, and walks with its own stack so it cannot overflow itself.
 */
import { FarmError } from "../core/errors.ts";

/** Deeper than any request the API defines (a ComfyUI workflow graph is under 10 levels). */
export const MAX_JSON_DEPTH = 64;

/**
 * Throws VALIDATION_ERROR naming the top-level field whose value nests deeper than
 * `limit` (the body itself when it is an over-deep array). The body object is depth 1.
 */
export function assertJsonDepth(value: unknown, limit = MAX_JSON_DEPTH): void {
  if (typeof value !== "object" || value === null) return;
  const stack: { v: object; depth: number; field: string }[] = [{ v: value, depth: 1, field: "body" }];
  while (stack.length > 0) {
    const { v, depth, field } = stack.pop()!;
    if (depth > limit) {
      throw new FarmError("VALIDATION_ERROR", `${field} is nested deeper than ${limit} levels`, { field, constraint: "max_depth", limit });
    }
    const top = depth === 1 && !Array.isArray(v);
    for (const [k, child] of Object.entries(v)) {
      if (typeof child === "object" && child !== null) stack.push({ v: child, depth: depth + 1, field: top ? k : field });
    }
  }
}
