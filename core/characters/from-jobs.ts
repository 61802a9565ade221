/**
 * Glue between face job results and character records, so the API can do:
 *   register: face.embed_references -> referencesFromJob -> buildCharacter -> store.create
 *   add refs: face.embed_references -> referencesFromJob -> store.update(id, refs, model)
 *   verify:   face.embed -> probeFromJob -> verify(record, probe.embedding, probe.model)
 */
import { FarmError } from "../errors.ts";
import type { ReferenceEmbedding } from "./types.ts";

export interface ReferencesFromJob {
  model: string;
  embedding_dim: number;
  references: ReferenceEmbedding[];
  /** Photos that gave no usable face, with why (shown to the user). */
  rejected: { index: number; image: string; reason: string }[];
}

const bad = (msg: string) => new FarmError("INTERNAL_ERROR", `unexpected face job result: ${msg}`);

/** From a face.embed_references result. Throws VALIDATION_ERROR (field images) when no photo was usable. */
export function referencesFromJob(result: Record<string, unknown>): ReferencesFromJob {
  const { model, embedding_dim: dim, results } = result as { model?: unknown; embedding_dim?: unknown; results?: unknown };
  if (typeof model !== "string" || typeof dim !== "number" || !Array.isArray(results)) throw bad("missing model, embedding_dim or results");
  const references: ReferenceEmbedding[] = [];
  const rejected: ReferencesFromJob["rejected"] = [];
  for (const r of results as { index?: unknown; image?: unknown; ok?: unknown; embedding?: unknown; reason?: unknown }[]) {
    const index = typeof r.index === "number" ? r.index : -1;
    const image = typeof r.image === "string" ? r.image : "";
    if (r.ok === true && Array.isArray(r.embedding)) references.push({ embedding: r.embedding as number[], source: image });
    else rejected.push({ index, image, reason: typeof r.reason === "string" ? r.reason : "unusable" });
  }
  if (references.length === 0) {
    throw new FarmError("VALIDATION_ERROR", `no reference image had a usable face: ${rejected.map((r) => `#${r.index} ${r.reason}`).join("; ")}`, {
      field: "images",
      constraint: "at least one photo with one clear face",
      rejected,
    });
  }
  return { model, embedding_dim: dim, references, rejected };
}

/** From a face.embed result. */
export function probeFromJob(result: Record<string, unknown>): { model: string; embedding: number[] } {
  const { model, embedding } = result as { model?: unknown; embedding?: unknown };
  if (typeof model !== "string" || !Array.isArray(embedding)) throw bad("missing model or embedding");
  return { model, embedding: embedding as number[] };
}
