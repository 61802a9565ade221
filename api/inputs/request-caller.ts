/**
 * The InputCaller of an API request (input-caller.ts): its key's rights over jobs, and the
 * API's output-link checker. With API keys off every caller holds the admin scope, so
 * nothing is restricted (there are no tenants then).
 */
import type { FastifyRequest } from "fastify";
import { toFarmError } from "../../core/errors.ts";
import { canActOn } from "../auth.ts";
import type { FarmClient } from "../farm-client.ts";
import type { InputCaller } from "./input-caller.ts";

export function requestCaller(req: FastifyRequest, farm: Pick<FarmClient, "get">): InputCaller {
  const principal = req.principal;
  const links = req.server.outputLinks;
  return {
    unrestricted: principal.scopes.has("admin"),
    async canReadJob(id) {
      try {
        return canActOn(principal, (await farm.get(id)).owner);
      } catch (err) {
        if (toFarmError(err).code === "NOT_FOUND") return false;
        throw err;
      }
    },
    checkLink: (outputPath, exp, sig) => links.check(outputPath, exp, sig),
  };
}
