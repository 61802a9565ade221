/**
 * Where character records live. Two implementations behind one interface:
 * `EmbeddedCharacterStore` (one JSON file under a state dir, embedded mode) and
 * `RedisCharacterStore` (ioredis, shared by every API node).
 */
import { FarmError } from "../errors.ts";
import type { CharacterRecord, ReferenceEmbedding } from "./types.ts";

export interface CharacterStore {
  /** Persist a new record (built with buildCharacter). CONFLICT if the id exists. */
  create(record: CharacterRecord): Promise<CharacterRecord>;
  /** The record, or null when absent. */
  get(id: string): Promise<CharacterRecord | null>;
  /** All records, oldest first. */
  list(): Promise<CharacterRecord[]>;
  /** Add references (addReferences) and persist. NOT_FOUND when absent. */
  update(id: string, more: ReferenceEmbedding[], model?: string): Promise<CharacterRecord>;
  /** Replace every embedding with `refs` from `model` (reembedCharacter) and persist. NOT_FOUND when absent. */
  reembed(id: string, refs: ReferenceEmbedding[], model: string): Promise<CharacterRecord>;
  /** true when something was deleted. */
  delete(id: string): Promise<boolean>;
  close?(): Promise<void>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function assertCharacterId(id: unknown): asserts id is string {
  if (typeof id !== "string" || !UUID.test(id))
    throw new FarmError("VALIDATION_ERROR", "character_id must be a UUID", { field: "character_id", constraint: "uuid" });
}

export const characterNotFound = (id: string) => new FarmError("NOT_FOUND", `character '${id}' not found`, { field: "character_id", constraint: "exists" });
