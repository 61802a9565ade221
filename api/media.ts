/**
 * Turns every media field of a request (base64, data URL, upload/artifact reference,
 * server path, URL) into an artifact key before a job is submitted, so agents fetch
 * bytes from the store and nothing large travels over the mesh.
 */
import type { FastifyRequest } from "fastify";
import type { ApiDeps } from "./deps.ts";
import { resolveMediaInput, inputDepsFromConfig, type InputDeps, type MediaKind } from "./inputs/index.ts";
import { requestCaller } from "./inputs/request-caller.ts";

const cache = new WeakMap<ApiDeps, InputDeps>();

export function inputDeps(deps: ApiDeps): InputDeps {
  let d = cache.get(deps);
  if (!d) cache.set(deps, (d = inputDepsFromConfig(deps.config, deps.artifacts)));
  return d;
}

/**
 * `req` is required: it says which stored outputs the caller may name (its own jobs', or
 * through signed links; api/inputs/input-caller.ts), so no route can forget the check.
 */
export async function mediaKey(deps: ApiDeps, value: unknown, field: string, kind: MediaKind, req: FastifyRequest): Promise<string> {
  return (await resolveMediaInput(value, field, kind, { ...inputDeps(deps), caller: requestCaller(req, deps.farm) })).key;
}
