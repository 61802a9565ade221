/**
 * Redis character store (ioredis 5): one JSON string per record at `<prefix>char:<id>`
 * and a sorted set `<prefix>chars` (score = created time) for listing. Updates are a
 * compare-and-set (Lua) retried on conflict, so two API nodes adding references at once
 * cannot lose either update.
 */
import { Redis } from "ioredis";
import { FarmError } from "../errors.ts";
import { addReferences, reembedCharacter } from "./logic.ts";
import { assertCharacterId, characterNotFound, type CharacterStore } from "./store.ts";
import type { CharacterRecord, ReferenceEmbedding } from "./types.ts";

/** Set KEYS[1] to ARGV[2] only if it still holds ARGV[1]. */
const CAS = "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) return 1 else return 0 end";

export interface RedisCharacterStoreOptions {
  /** Key prefix, e.g. "nb:". Default "nb:". */
  prefix?: string;
}

export class RedisCharacterStore implements CharacterStore {
  private readonly prefix: string;
  private readonly owned: boolean;
  readonly redis: Redis;

  /** `redis`: a URL (the store owns the connection) or an existing client (caller owns it). */
  constructor(redis: string | Redis, opts: RedisCharacterStoreOptions = {}) {
    this.prefix = opts.prefix ?? "nb:";
    this.owned = typeof redis === "string";
    this.redis = typeof redis === "string" ? new Redis(redis, { maxRetriesPerRequest: 2, lazyConnect: false }) : redis;
  }

  private key(id: string): string {
    return `${this.prefix}char:${id}`;
  }
  private get index(): string {
    return `${this.prefix}chars`;
  }

  async create(record: CharacterRecord): Promise<CharacterRecord> {
    assertCharacterId(record.character_id);
    const ok = await this.redis.set(this.key(record.character_id), JSON.stringify(record), "NX");
    if (ok !== "OK") throw new FarmError("CONFLICT", `character '${record.character_id}' already exists`);
    await this.redis.zadd(this.index, Date.parse(record.created_at) || Date.now(), record.character_id);
    return record;
  }

  async get(id: string): Promise<CharacterRecord | null> {
    assertCharacterId(id);
    const s = await this.redis.get(this.key(id));
    return s ? (JSON.parse(s) as CharacterRecord) : null;
  }

  async list(): Promise<CharacterRecord[]> {
    const ids = await this.redis.zrange(this.index, 0, -1);
    if (ids.length === 0) return [];
    const vals = await this.redis.mget(ids.map((id) => this.key(id)));
    return vals.filter((v): v is string => typeof v === "string").map((v) => JSON.parse(v) as CharacterRecord);
  }

  update(id: string, more: ReferenceEmbedding[], model?: string): Promise<CharacterRecord> {
    return this.modify(id, (r) => addReferences(r, more, model));
  }

  reembed(id: string, refs: ReferenceEmbedding[], model: string): Promise<CharacterRecord> {
    return this.modify(id, (r) => reembedCharacter(r, refs, model));
  }

  private async modify(id: string, change: (r: CharacterRecord) => CharacterRecord): Promise<CharacterRecord> {
    assertCharacterId(id);
    const key = this.key(id);
    for (let attempt = 0; attempt < 20; attempt++) {
      const before = await this.redis.get(key);
      if (!before) throw characterNotFound(id);
      const updated = change(JSON.parse(before) as CharacterRecord);
      // Compare-and-set: WATCH is per connection and callers share one, so check in Lua.
      const ok = await this.redis.eval(CAS, 1, key, before, JSON.stringify(updated));
      if (ok === 1) return updated;
    }
    throw new FarmError("CONFLICT", `character '${id}' is being updated concurrently; try again`);
  }

  async delete(id: string): Promise<boolean> {
    assertCharacterId(id);
    const [[, n]] = (await this.redis.multi().del(this.key(id)).zrem(this.index, id).exec()) as [[unknown, number], [unknown, number]];
    return n > 0;
  }

  async close(): Promise<void> {
    if (this.owned) await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
