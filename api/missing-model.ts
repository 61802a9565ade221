/**
 * Deps for a route whose 503 should name the model files a node needs: the coordinator only
 * knows that no node advertises the model; the files come from the plugin's manifest, which
 * the route knows. `explain` turns the coordinator's CAPABILITY_UNAVAILABLE into the richer
 * error (or returns null to keep it). A Proxy, so every other FarmClient method keeps its `this`.
 */
import type { ApiDeps } from "./deps.ts";
import { FarmError } from "../core/errors.ts";

export type ExplainUnavailable = (err: FarmError, params: Record<string, unknown>) => FarmError | null;

export function withMissingModelFiles(deps: ApiDeps, explain: ExplainUnavailable): ApiDeps {
  const farm = new Proxy(deps.farm, {
    get(target, key) {
      if (key === "submit") {
        return async (input: Parameters<ApiDeps["farm"]["submit"]>[0]) => {
          try {
            return await target.submit(input);
          } catch (err) {
            if (!(err instanceof FarmError) || err.code !== "CAPABILITY_UNAVAILABLE") throw err;
            throw explain(err, input.params ?? {}) ?? err;
          }
        };
      }
      const v: unknown = Reflect.get(target, key, target);
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { ...deps, farm };
}
