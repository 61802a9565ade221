/**
 * Characters: named identities registered from reference photos. A record keeps every
 * reference embedding (so it can be re-averaged when references are added) and says
 * which model made them: embeddings from different models are never compared.
 */

export interface ReferenceEmbedding {
  /** L2-normalised embedding of one reference photo. */
  embedding: number[];
  /** Where it came from (artifact key of the reference image). */
  source: string;
}

export interface Consistency {
  /** Mean pairwise cosine similarity of the references (1 with a single reference). */
  mean: number;
  /** Lowest pairwise cosine similarity (flags a reference of someone else). */
  min: number;
}

export interface CharacterRecord {
  character_id: string;
  name: string;
  description: string;
  /** Face model id that produced every embedding in this record. */
  model: string;
  embedding_dim: number;
  embeddings: ReferenceEmbedding[];
  /** Mean of the L2-normalised references, re-normalised to unit length. */
  average_embedding: number[];
  consistency: Consistency;
  /** ISO-8601. */
  created_at: string;
  updated_at: string;
}

export type Confidence = "high" | "medium" | "low";

export interface VerifyResult {
  match: boolean;
  /** Cosine similarity of the probe to the character's average embedding. */
  similarity: number;
  threshold: number;
  confidence: Confidence;
  model: string;
}
