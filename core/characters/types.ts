/**
 * Characters: named identities registered from reference photos. A record keeps every
 * reference embedding (so it can be re-averaged when references are added) and says
 * which model made them: embeddings from different models are never compared.
 */
import type { QualityIssue } from "./quality.ts";

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
  /** Name of the API key that registered it (absent with auth off): only it and admins may use, see or change it. */
  owner?: string;
}

export type Confidence = "high" | "medium" | "low";

export interface VerifyResult {
  match: boolean;
  /**
   * Cosine similarity of the probe to the character: the highest over its references
   * (best of N), the figure compared with the threshold.
   */
  similarity: number;
  /** The model's calibrated threshold (core/characters/thresholds.ts). */
  threshold: number;
  /** Band of |similarity - threshold|: high / medium / low (margins per model); "low" when not verifiable. */
  confidence: Confidence;
  /** False when the probe face failed the quality gate (quality.ts): then match is false whatever the similarity. */
  verifiable: boolean;
  /** Why the face could not be verified (only when verifiable is false). */
  quality_issues?: QualityIssue[];
  model: string;
  /**
   * How the references were combined: "best_of_n". Thresholds are calibrated on single photo
   * pairs; at the same threshold the mean of the references matched about as many real
   * same-person photos but 2-3x as many strangers (plugins/face/CALIBRATION.md), because a
   * mean embedding sits closer to everyone.
   */
  combination: "best_of_n";
  reference_count: number;
  /** Same as `similarity` (kept for clients of the first verify response). */
  best_reference_similarity: number;
  /** Similarity to the mean of the normalised references, for information. */
  mean_similarity: number;
}
