/**
 * Validation of job params into typed values against the schema of job-types.ts (every
 * problem is a VALIDATION_ERROR naming the field). The artifact-key rule stays here: the
 * schema says "a string", the store says which strings are keys.
 */
import { FarmError } from "../../core/errors.ts";
import { assertSafeKey } from "../../core/artifact-store.ts";
import { parseParams as parseWithSchema } from "../../core/job-types/parse.ts";
import { AnalyzeParams } from "./job-types.ts";
import type { AnalysisType } from "./types.ts";

export interface AudioParams {
  /** Artifact key of the input (the front door turns uploads and paths into keys). */
  audio_path: string;
  analysis_type: AnalysisType;
}

export function parseParams(params: Record<string, unknown>, defaultType: AnalysisType): AudioParams {
  const v = parseWithSchema(AnalyzeParams, { ...params, analysis_type: params.analysis_type ?? defaultType });
  try {
    assertSafeKey(v.audio_path);
  } catch {
    throw new FarmError("VALIDATION_ERROR", `audio_path is not a valid artifact key: ${v.audio_path}`, {
      field: "audio_path",
      constraint: "relative artifact key without '..'",
    });
  }
  return { audio_path: v.audio_path, analysis_type: v.analysis_type ?? defaultType };
}
