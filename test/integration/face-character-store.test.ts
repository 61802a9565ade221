import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildCharacter, EmbeddedCharacterStore, RedisCharacterStore, verify, type CharacterStore } from "../../core/characters/index.ts";
import { FarmError } from "../../core/errors.ts";
import { startRedis, type ServerHandle } from "../../deploy/servers/infra.ts";

const axis = (dim: number, i: number) => Array.from({ length: dim }, (_, k) => (k === i ? 1 : 0));

async function roundTrip(store: CharacterStore): Promise<void> {
  const a = buildCharacter("Ava", "hero", "face-api", [{ embedding: axis(128, 0), source: "uploads/a.jpg" }], new Date("2026-01-01T00:00:00Z"));
  const b = buildCharacter("Bo", "", "face-api", [{ embedding: axis(128, 5), source: "uploads/b.jpg" }], new Date("2026-01-02T00:00:00Z"));
  await store.create(a);
  await store.create(b);
  await assert.rejects(store.create(a), (e: FarmError) => e.code === "CONFLICT");
  assert.deepEqual(await store.get(a.character_id), a);
  assert.deepEqual(
    (await store.list()).map((r) => r.name),
    ["Ava", "Bo"],
  );

  const updated = await store.update(a.character_id, [{ embedding: axis(128, 1), source: "uploads/a2.jpg" }]);
  assert.equal(updated.embeddings.length, 2);
  const stored = await store.get(a.character_id);
  assert.equal(stored?.embeddings.length, 2);
  assert.deepEqual(
    stored?.embeddings.map((e) => e.source),
    ["uploads/a.jpg", "uploads/a2.jpg"],
  );
  assert.ok(Math.abs(stored!.average_embedding[0]! - Math.SQRT1_2) < 1e-12);
  // The stored record still verifies against its references (best of N: a probe equal to the
  // first reference matches it, though it is only 0.707 from their mean) and refuses another model.
  const v = verify(stored!, axis(128, 0), "face-api");
  assert.equal(v.match, true);
  assert.ok(Math.abs(v.similarity - 1) < 1e-12 && Math.abs(v.mean_similarity - Math.SQRT1_2) < 1e-12, JSON.stringify(v));
  assert.equal(verify(stored!, axis(128, 9), "face-api").match, false); // orthogonal to both references
  assert.throws(
    () => verify(stored!, axis(512, 0), "insightface"),
    (e: FarmError) => e.code === "VALIDATION_ERROR",
  );
  await assert.rejects(
    store.update(a.character_id, [{ embedding: axis(512, 1), source: "x" }], "insightface"),
    (e: FarmError) => e.code === "VALIDATION_ERROR",
  );

  // Concurrent updates are both kept.
  await Promise.all([
    store.update(b.character_id, [{ embedding: axis(128, 6), source: "c1" }]),
    store.update(b.character_id, [{ embedding: axis(128, 7), source: "c2" }]),
  ]);
  assert.equal((await store.get(b.character_id))?.embeddings.length, 3);

  // Re-embedding moves b to another model, persisted, with its id.
  const moved = await store.reembed(b.character_id, [{ embedding: axis(1024, 2), source: "uploads/b.jpg" }], "human-faceres");
  const movedStored = await store.get(b.character_id);
  assert.equal(movedStored?.model, "human-faceres");
  assert.equal(movedStored?.embedding_dim, 1024);
  assert.deepEqual(movedStored, moved);
  assert.equal(verify(movedStored!, axis(1024, 2), "human-faceres").match, true);

  const missing = "00000000-0000-4000-8000-000000000000";
  assert.equal(await store.get(missing), null);
  await assert.rejects(store.reembed(missing, [{ embedding: axis(1024, 0), source: "x" }], "human-faceres"), (e: FarmError) => e.code === "NOT_FOUND");
  await assert.rejects(store.update(missing, [{ embedding: axis(128, 0), source: "x" }]), (e: FarmError) => e.code === "NOT_FOUND");
  await assert.rejects(store.get("not-a-uuid"), (e: FarmError) => e.code === "VALIDATION_ERROR" && e.details?.field === "character_id");
  assert.equal(await store.delete(a.character_id), true);
  assert.equal(await store.delete(a.character_id), false);
  assert.deepEqual(
    (await store.list()).map((r) => r.name),
    ["Bo"],
  );
}

let dir: string;
let redis: ServerHandle;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "nb-chars-"));
  redis = await startRedis();
});
afterAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  await redis?.stop();
});

test("embedded store: round trip, atomic JSON file survives a new instance", async () => {
  const store = new EmbeddedCharacterStore(dir);
  await roundTrip(store);
  const again = new EmbeddedCharacterStore(dir);
  assert.deepEqual(
    (await again.list()).map((r) => r.name),
    ["Bo"],
  );
  assert.deepEqual(fs.readdirSync(dir), ["characters.json"]); // no temp files left behind
});

test("redis store: round trip on a real redis-server, keys under the prefix", async () => {
  const store = new RedisCharacterStore(redis.url, { prefix: "test:" });
  try {
    await roundTrip(store);
    const keys = await store.redis.keys("*");
    assert.ok(keys.length > 0 && keys.every((k) => k.startsWith("test:")));
    const other = new RedisCharacterStore(store.redis, { prefix: "other:" });
    assert.deepEqual(await other.list(), []);
  } finally {
    await store.close();
  }
});
