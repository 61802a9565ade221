/**
 * Per-model match thresholds on cosine similarity of L2-normalised embeddings, and the
 * margin bands that turn |similarity - threshold| into a confidence label.
 * How each value was chosen: plugins/face/CALIBRATION.md.
 */
import { FarmError } from "../errors.ts";

export interface ModelThreshold {
  /** similarity >= threshold means "same person". */
  threshold: number;
  /** Margin at or above which the answer is "high" confidence. */
  high_margin: number;
  /** Margin at or above which the answer is "medium"; below is "low". */
  medium_margin: number;
  /** Where the number comes from. */
  source: "calibrated" | "published";
}

export const MODEL_THRESHOLDS: Record<string, ModelThreshold> = {
  // Calibrated in bench/face.bench.ts on the photos shipped with @vladmandic/face-api
  // (CALIBRATION.md). face-api descriptors share a large common component, so different
  // people already score ~0.88 cosine; the useful range is narrow, and so are the margins.
  // Equivalent Euclidean distance on unit vectors: sqrt(2 - 2 * 0.94) = 0.35.
  // On the evaluation set (scripts/face-eval, variants only) 0.94 gives FMR 0.3 %, and FMR
  // 0.1 % would need 0.95. Kept at 0.94: that set's impostors above 0.94 are degraded
  // variants (grey, low light), while the real cross-photo photos put same-person
  // pairs at 0.86-0.94, so raising it would refuse more real matches on no real-photo
  // evidence. New characters use human-faceres (DEFAULT_CHARACTER_MODEL) instead.
  "face-api": { threshold: 0.94, high_margin: 0.03, medium_margin: 0.01, source: "calibrated" },
  // ArcFace (w600k_r50) published operating point: cosine ~0.35-0.45 separates same/different
  // on LFW-style data; no weights ship here, so it is not re-calibrated (CALIBRATION.md).
  // Calibrated on the face evaluation set (scripts/face-eval, BENCHMARKS.md): just above the
  // highest impostor score (0.727 among 44,394 impostor pairs), i.e. FMR 0 there, with TMR
  // 86.6 % of variant pairs (FMR 0.1 % would allow 0.641 and 90.4 %).
  "human-faceres": { threshold: 0.73, high_margin: 0.12, medium_margin: 0.05, source: "calibrated" },
  insightface: { threshold: 0.4, high_margin: 0.15, medium_margin: 0.05, source: "published" },
};

/**
 * Model for characters registered without naming one. Measured on the evaluation set against
 * face-api (BENCHMARKS.md, face section). Existing characters keep the model they were
 * registered with; moving one to another model is an explicit re-registration.
 */
export const DEFAULT_CHARACTER_MODEL = "human-faceres";

export function thresholdFor(model: string): ModelThreshold {
  const t = MODEL_THRESHOLDS[model];
  if (!t) throw new FarmError("VALIDATION_ERROR", `no match threshold known for face model '${model}'`, { field: "model", constraint: `one of ${Object.keys(MODEL_THRESHOLDS).join(", ")}` });
  return t;
}
