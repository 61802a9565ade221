import { test } from "vitest";
import assert from "node:assert/strict";
import { addReferences, buildCharacter, consistencyOf, cosine, reembedCharacter, thresholdFor, verify } from "../../core/characters/index.ts";
import { FarmError } from "../../core/errors.ts";

/** A deterministic unit vector near `base` (noise scaled by `eps`). */
function near(base: number[], eps: number, seed: number): number[] {
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5;
  return base.map((x) => x + eps * rnd());
}
const axis = (dim: number, i: number) => Array.from({ length: dim }, (_, k) => (k === i ? 1 : 0));

test("buildCharacter averages L2-normalised references, re-normalises and scores consistency", () => {
  const a = [3, 4, 0];
  const b = [0, 10, 0];
  const rec = buildCharacter(
    "Ava",
    "lead",
    "face-api",
    [
      { embedding: a, source: "u/a.jpg" },
      { embedding: b, source: "u/b.jpg" },
    ],
    new Date("2026-01-01T00:00:00Z"),
  );
  assert.match(rec.character_id, /^[0-9a-f-]{36}$/);
  assert.equal(rec.embedding_dim, 3);
  assert.deepEqual(rec.embeddings[0]!.embedding, [0.6, 0.8, 0]);
  // mean of [0.6,0.8,0] and [0,1,0] = [0.3,0.9,0] -> normalised
  const n = Math.hypot(0.3, 0.9);
  rec.average_embedding.forEach((v, i) => assert.ok(Math.abs(v - [0.3 / n, 0.9 / n, 0][i]!) < 1e-12));
  assert.ok(Math.abs(rec.consistency.mean - 0.8) < 1e-12);
  assert.ok(Math.abs(rec.consistency.min - 0.8) < 1e-12);
  assert.equal(rec.created_at, "2026-01-01T00:00:00.000Z");
  assert.equal(rec.model, "face-api");
});

test("consistency min flags one odd reference among similar ones", () => {
  const c = consistencyOf([axis(4, 0), near(axis(4, 0), 0.01, 1), axis(4, 2)]);
  assert.ok(c.min < 0.05);
  assert.ok(c.mean > 0.3 && c.mean < 0.4);
});

test("addReferences re-averages, keeps created_at, bumps updated_at and refuses another model", () => {
  const rec = buildCharacter("Bo", "", "insightface", [{ embedding: axis(8, 0), source: "a" }], new Date("2026-01-01T00:00:00Z"));
  const more = addReferences(rec, [{ embedding: axis(8, 1), source: "b" }], "insightface", new Date("2026-02-01T00:00:00Z"));
  assert.equal(more.embeddings.length, 2);
  assert.equal(more.created_at, rec.created_at);
  assert.equal(more.updated_at, "2026-02-01T00:00:00.000Z");
  assert.ok(Math.abs(more.average_embedding[0]! - Math.SQRT1_2) < 1e-12);
  assert.throws(
    () => addReferences(rec, [{ embedding: axis(8, 1), source: "b" }], "face-api"),
    (e: FarmError) => e.code === "VALIDATION_ERROR" && e.details?.field === "model",
  );
  assert.throws(
    () => addReferences(rec, [{ embedding: axis(4, 1), source: "b" }]),
    (e: FarmError) => e.code === "VALIDATION_ERROR",
  );
});

test("verify: match above threshold, reject below, confidence from the margin", () => {
  const dim = 16;
  const rec = buildCharacter("Cy", "", "insightface", [{ embedding: axis(dim, 0), source: "a" }]);
  const t = thresholdFor("insightface").threshold;
  const same = verify(rec, axis(dim, 0), "insightface");
  assert.equal(same.match, true);
  assert.equal(same.confidence, "high");
  assert.equal(same.threshold, t);
  assert.equal(same.model, "insightface");
  const other = verify(rec, axis(dim, 1), "insightface");
  assert.equal(other.match, false);
  assert.equal(other.confidence, "high");
  // Just above the threshold: a match, low confidence.
  const probe = Array.from({ length: dim }, (_, k) => (k === 0 ? t + 0.01 : k === 1 ? Math.sqrt(1 - (t + 0.01) ** 2) : 0));
  const edge = verify(rec, probe, "insightface");
  assert.equal(edge.match, true);
  assert.equal(edge.confidence, "low");
  assert.ok(Math.abs(edge.similarity - (t + 0.01)) < 1e-9);
});

test("verify refuses embeddings from a different model or dimension", () => {
  const rec = buildCharacter("Di", "", "face-api", [{ embedding: axis(128, 0), source: "a" }]);
  assert.throws(
    () => verify(rec, axis(512, 0), "insightface"),
    (e: FarmError) => e.code === "VALIDATION_ERROR" && e.details?.field === "model",
  );
  assert.throws(
    () => verify(rec, axis(64, 0), "face-api"),
    (e: FarmError) => e.code === "VALIDATION_ERROR" && e.details?.field === "embedding",
  );
});

test("bad input is a VALIDATION_ERROR naming the field", () => {
  assert.throws(
    () => buildCharacter("", "", "face-api", [{ embedding: [1], source: "a" }]),
    (e: FarmError) => e.details?.field === "name",
  );
  assert.throws(
    () => buildCharacter("x", "", "face-api", []),
    (e: FarmError) => e.details?.field === "images",
  );
  assert.throws(
    () => buildCharacter("x", "", "face-api", [{ embedding: [0, 0], source: "a" }]),
    (e: FarmError) => e.code === "VALIDATION_ERROR",
  );
  assert.throws(
    () =>
      buildCharacter("x", "", "face-api", [
        { embedding: [1, 2], source: "a" },
        { embedding: [1, Number.NaN], source: "b" },
      ]),
    (e: FarmError) => e.details?.field === "embeddings[1]",
  );
  assert.throws(
    () => thresholdFor("nope"),
    (e: FarmError) => e.details?.field === "model",
  );
  assert.ok(Math.abs(cosine([1, 0], [1, 1]) - Math.SQRT1_2) < 1e-12);
});

test("referencesFromJob keeps usable photos, reports the rest, and refuses when none is usable", async () => {
  const { referencesFromJob, probeFromJob } = await import("../../core/characters/index.ts");
  const got = referencesFromJob({
    model: "face-api",
    embedding_dim: 2,
    ok_count: 1,
    results: [
      { index: 0, image: "u/a.jpg", ok: true, embedding: [1, 0], bbox: [0, 0, 1, 1] },
      { index: 1, image: "u/b.jpg", ok: false, reason: "no face found" },
    ],
  });
  assert.deepEqual(got.references, [{ embedding: [1, 0], source: "u/a.jpg" }]);
  assert.deepEqual(got.rejected, [{ index: 1, image: "u/b.jpg", reason: "no face found" }]);
  const rec = buildCharacter("E", "", got.model, got.references);
  assert.equal(rec.embeddings[0]!.source, "u/a.jpg");
  assert.throws(
    () =>
      referencesFromJob({ model: "face-api", embedding_dim: 2, results: [{ index: 0, image: "x", ok: false, reason: "2 faces of similar size: ambiguous" }] }),
    (e: FarmError) => e.code === "VALIDATION_ERROR" && e.details?.field === "images" && /ambiguous/.test(e.message),
  );
  assert.deepEqual(probeFromJob({ model: "face-api", embedding: [0, 1], embedding_dim: 2 }), { model: "face-api", embedding: [0, 1] });
});

test("verify with several references decides on the best single reference and also reports the mean", () => {
  const rec = buildCharacter("Di", "", "human-faceres", [
    { embedding: axis(8, 0), source: "a" },
    { embedding: axis(8, 1), source: "b" },
  ]);
  const v = verify(rec, axis(8, 0), "human-faceres");
  assert.equal(v.combination, "best_of_n");
  assert.equal(v.reference_count, 2);
  assert.ok(Math.abs(v.similarity - 1) < 1e-12); // to reference "a" itself
  assert.equal(v.best_reference_similarity, v.similarity);
  assert.ok(Math.abs(v.mean_similarity - Math.SQRT1_2) < 1e-12); // to the mean of the two axes
  assert.equal(v.match, true);
  // Halfway between the two references: 0.707 to each, so the decision is 0.707 against the threshold.
  const mid = verify(rec, [1, 1, 0, 0, 0, 0, 0, 0], "human-faceres");
  assert.ok(Math.abs(mid.similarity - Math.SQRT1_2) < 1e-12);
  assert.ok(Math.abs(mid.mean_similarity - 1) < 1e-12);
  assert.equal(mid.match, Math.SQRT1_2 >= thresholdFor("human-faceres").threshold);
  // Someone else: below the threshold whatever the combination.
  const other = verify(rec, axis(8, 5), "human-faceres");
  assert.equal(other.match, false);
  assert.equal(other.similarity, 0);
});

test("reembedCharacter moves a record to another model: same id and name, new embeddings and dimension", () => {
  const rec = buildCharacter("Ed", "d", "face-api", [{ embedding: axis(128, 0), source: "uploads/a.png" }], new Date("2026-01-01T00:00:00Z"));
  const moved = reembedCharacter(rec, [{ embedding: axis(1024, 3), source: "uploads/a.png" }], "human-faceres", new Date("2026-02-01T00:00:00Z"));
  assert.equal(moved.character_id, rec.character_id);
  assert.equal(moved.name, "Ed");
  assert.equal(moved.model, "human-faceres");
  assert.equal(moved.embedding_dim, 1024);
  assert.equal(moved.created_at, rec.created_at);
  assert.equal(moved.updated_at, "2026-02-01T00:00:00.000Z");
  assert.equal(verify(moved, axis(1024, 3), "human-faceres").match, true);
  assert.throws(
    () => verify(moved, axis(128, 0), "face-api"),
    (e: FarmError) => e.details?.field === "model",
  );
  assert.throws(
    () => reembedCharacter(rec, [], "human-faceres"),
    (e: FarmError) => e.code === "VALIDATION_ERROR",
  );
});
