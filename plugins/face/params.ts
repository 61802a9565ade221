/** Parameter validation for the face job types. Every problem is a VALIDATION_ERROR naming the field. */
import { validation } from "../../core/errors.ts";

export const MAX_REFERENCE_IMAGES = 20;

export function imageKey(params: Record<string, unknown>, field = "image"): string {
  const v = params[field];
  if (typeof v !== "string" || v.length === 0 || v.length > 512) throw validation(field, "artifact key", `${field} must be an artifact key (non-empty string)`);
  return v;
}

export function optionalBool(params: Record<string, unknown>, field: string, dflt: boolean): boolean {
  const v = params[field];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== "boolean") throw validation(field, "boolean", `${field} must be true or false`);
  return v;
}

/** face_index: a non-negative integer or "largest" (default). */
export function faceIndex(params: Record<string, unknown>): number | "largest" {
  const v = params.face_index;
  if (v === undefined || v === null || v === "largest") return "largest";
  if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v < 1000) return v;
  throw validation("face_index", "integer >= 0 or 'largest'", 'face_index must be a non-negative integer or "largest"');
}

export function imageKeys(params: Record<string, unknown>): string[] {
  const v = params.images;
  if (!Array.isArray(v) || v.length === 0 || v.length > MAX_REFERENCE_IMAGES) {
    throw validation("images", `1-${MAX_REFERENCE_IMAGES} artifact keys`, `images must be a list of 1-${MAX_REFERENCE_IMAGES} artifact keys`);
  }
  return v.map((k, i) => {
    if (typeof k !== "string" || k.length === 0 || k.length > 512) throw validation(`images[${i}]`, "artifact key", `images[${i}] must be an artifact key`);
    return k;
  });
}

export function modelParam(params: Record<string, unknown>, taskModel: string | undefined, known: readonly string[], dflt: string): string {
  const v = taskModel ?? params.model ?? dflt;
  if (typeof v !== "string" || !known.includes(v)) throw validation("model", `one of ${known.join(", ")}`, `model must be one of ${known.join(", ")}`);
  return v;
}

/**
 * detector: "fast" (TinyFaceDetector, falling back to SSD) or "accurate" (SSD always).
 * Undefined when absent, so the backend's configured default applies. face-api only.
 */
export function detectorParam(params: Record<string, unknown>): "fast" | "accurate" | undefined {
  const v = params.detector;
  if (v === undefined || v === null) return undefined;
  if (v === "fast" || v === "accurate") return v;
  throw validation("detector", "fast | accurate", 'detector must be "fast" or "accurate"');
}
