/**
 * character_id on /generate/image and /generate/batch: the params of an image.character
 * job (coordinator/character-flow.ts), which generates with the character's reference
 * photos in face_ref mode and checks every output's face against the character.
 * The character is looked up here (404 NOT_FOUND naming character_id when unknown) and
 * travels in the job as it is now, so the job does not depend on the API process or on
 * later edits of the character. Its photos replace any reference_images of the request.
 */
import type { ApiDeps } from "./deps.ts";
import { FarmError } from "../core/errors.ts";
import { assertCharacterId, characterNotFound } from "../core/characters/store.ts";
import { canActOn, type Principal } from "./auth.ts";

export async function characterJobParams(deps: ApiDeps, settings: Record<string, unknown>, principal: Principal): Promise<Record<string, unknown>> {
  const { character_id, character_attempts, reference_images: _refs, ...generate } = settings;
  assertCharacterId(character_id);
  if (!deps.characters) throw new FarmError("SERVICE_UNAVAILABLE", "character store is not configured", { field: "character_id", constraint: "store" });
  const character = await deps.characters.get(character_id);
  // Another key's character is answered as unknown: its existence is not the caller's business.
  if (!character || !canActOn(principal, character.owner)) throw characterNotFound(character_id);
  // The whole record: verify() also compares with each reference's own vector.
  return { generate, character, ...(character_attempts !== undefined ? { attempts: character_attempts } : {}) };
}
