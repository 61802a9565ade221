/**
 * The face-quality gate: a face too dark to compare is answered "cannot verify" (verify:
 * `verifiable: false`, `match: false`, `confidence: "low"`, `quality_issues`) and refused as a
 * reference photo (register / add references: in `rejected` with the reason), instead of a
 * similarity that would be trusted.
 *
 * Why brightness: on the dev split of the face evaluation set, the strangers most similar
 * under every model were synthetic low-light-plus-noise copies of different people (aligned
 * face mean grey 26-57): the descriptors see the noise, not the person. Refusing faces below
 * the cut raised cross-photo TMR at FMR 0 (fusion) from 63 % to 77 % while refusing 0.9 % of
 * the dev images and no real photograph (CALIBRATION.md, "Quality gate"). Face size and
 * detector score did not separate them (every top impostor was a large, confident face).
 */
export interface FaceQualitySignals {
  /** Mean grey (0-255) of the aligned face crop (plugins/face/quality.ts). */
  brightness: number;
  sharpness?: number;
}

export const FACE_QUALITY_GATE = {
  /** Lowest aligned-face brightness that is compared (dev calibration, CALIBRATION.md). */
  min_brightness: 30,
} as const;

export interface QualityIssue {
  /** "too_dark". */
  code: "too_dark";
  message: string;
}

/** Why a face cannot be verified; empty when it can (or when the job reported no quality, e.g. an older node). */
export function qualityIssues(q: unknown): QualityIssue[] {
  const b = (q as Partial<FaceQualitySignals> | undefined)?.brightness;
  if (typeof b !== "number" || !Number.isFinite(b)) return [];
  return b < FACE_QUALITY_GATE.min_brightness
    ? [{ code: "too_dark", message: `face too dark to verify (brightness ${b.toFixed(1)} < ${FACE_QUALITY_GATE.min_brightness} of 255)` }]
    : [];
}

/** One face.embed_references result (plugins/face): a photo's embedding and face quality, or why it gave none. */
export interface ReferenceResult {
  index: number;
  ok: boolean;
  embedding?: number[];
  quality?: unknown;
  reason?: string;
}

/**
 * Splits reference photos into kept and refused, the gate included: register, add-references
 * and re-embed share it, so a photo the gate refuses at registration is refused again when a
 * character moves to another model (re-embedding it would store the very noise the gate keeps
 * out). `sources[i]` is photo i's stored key; `field` names the request field in `rejected`.
 */
export function sortReferences(
  results: readonly ReferenceResult[],
  sources: readonly string[],
  field: string,
): { accepted: { embedding: number[]; source: string }[]; rejected: { index: number; field: string; reason: string }[] } {
  const accepted: { embedding: number[]; source: string }[] = [];
  const rejected: { index: number; field: string; reason: string }[] = [];
  for (const x of results) {
    const issue = x.ok ? qualityIssues(x.quality)[0] : undefined;
    if (x.ok && x.embedding && !issue) accepted.push({ embedding: x.embedding, source: sources[x.index] ?? String(x.index) });
    else rejected.push({ index: x.index, field: `${field}[${x.index}]`, reason: issue?.message ?? x.reason ?? "no usable face" });
  }
  return { accepted, rejected };
}
