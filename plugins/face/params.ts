/**
 * The face job types' params, checked against their one schemas (job-types.ts), which the
 * coordinator already checked at submit, because tasks also reach the plugin straight from
 * the mesh. null is absent (the default applies); errors name the field (VALIDATION_ERROR).
 */
import type { Static } from "typebox";
import { validation } from "../../core/errors.ts";
import { parseParams } from "../../core/job-types/parse.ts";
import { FaceDetectParams, FaceEmbedParams, FaceEmbedReferencesParams } from "./job-types.ts";

type P = Readonly<Record<string, unknown>>;

export const parseDetectParams = (p: P): Static<typeof FaceDetectParams> => parseParams(FaceDetectParams, p, { nullIsAbsent: true });
export const parseEmbedParams = (p: P): Static<typeof FaceEmbedParams> => parseParams(FaceEmbedParams, p, { nullIsAbsent: true });
export const parseEmbedReferencesParams = (p: P): Static<typeof FaceEmbedReferencesParams> => parseParams(FaceEmbedReferencesParams, p, { nullIsAbsent: true });

/** The task's model (or params.model), one of the plugin's models; the default when neither names one. */
export function modelParam(params: Record<string, unknown>, taskModel: string | undefined, known: readonly string[], dflt: string): string {
  const v = taskModel ?? params.model ?? dflt;
  if (typeof v !== "string" || !known.includes(v)) throw validation("model", `one of ${known.join(", ")}`, `model must be one of ${known.join(", ")}`);
  return v;
}
