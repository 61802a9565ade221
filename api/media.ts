/**
 * Turns every media field of a request (base64, data URL, upload/artifact reference,
 * server path, URL) into an artifact key before a job is submitted, so agents fetch
 * bytes from the store and nothing large travels over the mesh.
 */
import type { ApiDeps } from "./deps.ts";
import { resolveMediaInput, inputDepsFromConfig, type InputDeps, type MediaKind } from "./inputs/index.ts";

const cache = new WeakMap<ApiDeps, InputDeps>();

export function inputDeps(deps: ApiDeps): InputDeps {
  let d = cache.get(deps);
  if (!d) cache.set(deps, (d = inputDepsFromConfig(deps.config, deps.artifacts)));
  return d;
}

export async function mediaKey(deps: ApiDeps, value: unknown, field: string, kind: MediaKind): Promise<string> {
  return (await resolveMediaInput(value, field, kind, inputDeps(deps))).key;
}
