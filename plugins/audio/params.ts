/** Validation of job params into typed values (every problem is a VALIDATION_ERROR naming the field). */
import { FarmError } from "../../core/errors.ts";
import { assertSafeKey } from "../../core/artifact-store.ts";
import { ANALYSIS_TYPES, type AnalysisType } from "./types.ts";

export interface AudioParams {
  /** Artifact key of the input (the front door turns uploads and paths into keys). */
  audio_path: string;
  analysis_type: AnalysisType;
}

export function parseParams(params: Record<string, unknown>, defaultType: AnalysisType): AudioParams {
  const key = params.audio_path;
  if (typeof key !== "string" || key.length === 0) {
    throw new FarmError("VALIDATION_ERROR", "audio_path is required (an artifact key)", { field: "audio_path", constraint: "non-empty string" });
  }
  try {
    assertSafeKey(key);
  } catch {
    throw new FarmError("VALIDATION_ERROR", `audio_path is not a valid artifact key: ${key}`, { field: "audio_path", constraint: "relative artifact key without '..'" });
  }
  const t = params.analysis_type ?? defaultType;
  if (typeof t !== "string" || !(ANALYSIS_TYPES as readonly string[]).includes(t)) {
    throw new FarmError("VALIDATION_ERROR", `analysis_type must be one of ${ANALYSIS_TYPES.join(", ")}`, {
      field: "analysis_type",
      constraint: `one of ${ANALYSIS_TYPES.join("|")}`,
    });
  }
  return { audio_path: key, analysis_type: t as AnalysisType };
}
