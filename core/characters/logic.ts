/**
 * Pure character logic: build a record from per-image embeddings, add references, verify
 * a probe. No I/O; the stores persist what these return.
 */
import { randomUUID } from "node:crypto";
import { FarmError } from "../errors.ts";
import { qualityIssues } from "./quality.ts";
import { thresholdFor } from "./thresholds.ts";
import type { CharacterRecord, Confidence, Consistency, ReferenceEmbedding, VerifyResult } from "./types.ts";

export function l2normalize(v: readonly number[]): number[] {
  let s = 0;
  for (const x of v) s += x * x;
  const n = Math.sqrt(s);
  if (!(n > 0) || !Number.isFinite(n))
    throw new FarmError("VALIDATION_ERROR", "embedding has zero or non-finite length", { field: "embedding", constraint: "non-zero finite vector" });
  return v.map((x) => x / n);
}

export function cosine(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length)
    throw new FarmError("VALIDATION_ERROR", `embedding dimensions differ (${a.length} vs ${b.length})`, {
      field: "embedding",
      constraint: `length ${b.length}`,
    });
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  const d = Math.sqrt(na) * Math.sqrt(nb);
  return d > 0 ? dot / d : 0;
}

export function averageEmbedding(embs: readonly (readonly number[])[]): number[] {
  const first = embs[0];
  if (!first) throw new FarmError("VALIDATION_ERROR", "at least one reference embedding is required", { field: "images", constraint: "min 1 face" });
  const sum = new Array<number>(first.length).fill(0);
  for (const e of embs) {
    const u = l2normalize(e);
    for (let i = 0; i < u.length; i++) sum[i]! += u[i]!;
  }
  return l2normalize(sum);
}

export function consistencyOf(embs: readonly (readonly number[])[]): Consistency {
  if (embs.length < 2) return { mean: 1, min: 1 };
  let total = 0;
  let n = 0;
  let min = Infinity;
  for (let i = 0; i < embs.length; i++) {
    for (let j = i + 1; j < embs.length; j++) {
      const c = cosine(embs[i]!, embs[j]!);
      total += c;
      n++;
      min = Math.min(min, c);
    }
  }
  return { mean: total / n, min };
}

function checkEmbeddings(model: string, refs: readonly ReferenceEmbedding[], dim?: number): number {
  if (typeof model !== "string" || model.length === 0)
    throw new FarmError("VALIDATION_ERROR", "model is required", { field: "model", constraint: "non-empty string" });
  const d = dim ?? refs[0]?.embedding.length ?? 0;
  refs.forEach((r, i) => {
    if (!Array.isArray(r.embedding) || r.embedding.length !== d || r.embedding.some((x) => typeof x !== "number" || !Number.isFinite(x))) {
      throw new FarmError("VALIDATION_ERROR", `reference ${i}: embedding must be ${d} finite numbers`, {
        field: `embeddings[${i}]`,
        constraint: `length ${d}`,
      });
    }
  });
  return d;
}

function summarise(refs: ReferenceEmbedding[]): Pick<CharacterRecord, "average_embedding" | "consistency"> {
  const embs = refs.map((r) => r.embedding);
  return { average_embedding: averageEmbedding(embs), consistency: consistencyOf(embs) };
}

/** A new record from at least one reference embedding (all from `model`). */
export function buildCharacter(
  name: string,
  description: string,
  model: string,
  perImageEmbeddings: ReferenceEmbedding[],
  now: Date = new Date(),
): CharacterRecord {
  if (typeof name !== "string" || name.trim().length === 0 || name.length > 200)
    throw new FarmError("VALIDATION_ERROR", "name must be 1-200 characters", { field: "name", constraint: "1-200 chars" });
  if (perImageEmbeddings.length === 0)
    throw new FarmError("VALIDATION_ERROR", "no reference image had a usable face", { field: "images", constraint: "min 1 face" });
  const dim = checkEmbeddings(model, perImageEmbeddings);
  const embeddings = perImageEmbeddings.map((r) => ({ embedding: l2normalize(r.embedding), source: String(r.source) }));
  const ts = now.toISOString();
  return {
    character_id: randomUUID(),
    name: name.trim(),
    description: typeof description === "string" ? description : "",
    model,
    embedding_dim: dim,
    embeddings,
    ...summarise(embeddings),
    created_at: ts,
    updated_at: ts,
  };
}

/** The record with more references (same model and dimension), re-averaged. */
export function addReferences(record: CharacterRecord, more: ReferenceEmbedding[], model: string = record.model, now: Date = new Date()): CharacterRecord {
  if (model !== record.model)
    throw new FarmError("VALIDATION_ERROR", `character was registered with model '${record.model}', references come from '${model}'`, {
      field: "model",
      constraint: record.model,
    });
  if (more.length === 0) throw new FarmError("VALIDATION_ERROR", "no reference image had a usable face", { field: "images", constraint: "min 1 face" });
  checkEmbeddings(model, more, record.embedding_dim);
  const embeddings = [...record.embeddings, ...more.map((r) => ({ embedding: l2normalize(r.embedding), source: String(r.source) }))];
  return { ...record, embeddings, ...summarise(embeddings), updated_at: now.toISOString() };
}

/**
 * The record moved to another model: every embedding replaced by `refs` (made by `model` from
 * the character's reference photos). Same id, name and created_at, so jobs and clients that
 * name the character keep working. The explicit way to move an existing character to a new
 * default model; nothing re-embeds on its own.
 */
export function reembedCharacter(record: CharacterRecord, refs: ReferenceEmbedding[], model: string, now: Date = new Date()): CharacterRecord {
  if (refs.length === 0) throw new FarmError("VALIDATION_ERROR", "no reference image had a usable face", { field: "images", constraint: "min 1 face" });
  const dim = checkEmbeddings(model, refs);
  const embeddings = refs.map((r) => ({ embedding: l2normalize(r.embedding), source: String(r.source) }));
  return { ...record, model, embedding_dim: dim, embeddings, ...summarise(embeddings), updated_at: now.toISOString() };
}

export function confidenceFor(margin: number, model: string): Confidence {
  const t = thresholdFor(model);
  const m = Math.abs(margin);
  return m >= t.high_margin ? "high" : m >= t.medium_margin ? "medium" : "low";
}

/**
 * Does `embedding` (made by `model`) show this character? Models must match. `quality` is the
 * probe face's quality from the face.embed job: a face the gate refuses (quality.ts) is not
 * matched, whatever its similarity, and says why.
 */
export function verify(record: CharacterRecord, embedding: readonly number[], model: string, quality?: unknown): VerifyResult {
  if (model !== record.model) {
    throw new FarmError(
      "VALIDATION_ERROR",
      `embedding from model '${model}' cannot be compared with character '${record.character_id}' registered with '${record.model}'`,
      { field: "model", constraint: record.model },
    );
  }
  if (embedding.length !== record.embedding_dim) {
    throw new FarmError("VALIDATION_ERROR", `embedding has ${embedding.length} dimensions, character has ${record.embedding_dim}`, {
      field: "embedding",
      constraint: `length ${record.embedding_dim}`,
    });
  }
  const t = thresholdFor(model);
  // Best of N: the threshold is calibrated on single photo pairs, and this keeps the decision one.
  const similarity = record.embeddings.reduce((m, r) => Math.max(m, cosine(embedding, r.embedding)), -1);
  const issues = qualityIssues(quality);
  const verifiable = issues.length === 0;
  return {
    match: verifiable && similarity >= t.threshold,
    similarity,
    threshold: t.threshold,
    confidence: verifiable ? confidenceFor(similarity - t.threshold, model) : "low",
    verifiable,
    ...(verifiable ? {} : { quality_issues: issues }),
    model,
    combination: "best_of_n",
    reference_count: record.embeddings.length,
    best_reference_similarity: similarity,
    mean_similarity: cosine(embedding, record.average_embedding),
  };
}
