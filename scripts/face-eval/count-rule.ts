/**
 * The detection-count measure of issue 13 ("detection in range >= 99 %"): each photograph gets
 * an expected face-count range by rule, face.detect's face_count is in range or a miss, and a
 * copy turned without EXIF must give the same count and report the turn that undoes it.
 * Pure functions (no detector) so the rule and the scoring are unit-tested (test/unit/face-eval-count.test.ts).
 *
 * The rule:
 * - a photograph of one labelled person (the eval set's photos): exactly 1, unless the photo
 *   shows other people's faces, then 1..N with N = 1 + the other faces a viewer can see, set by
 *   eye in LABELS (with the reason) — the labelled person's face is always there, so 0 is a miss;
 * - a group photo: min = the faces seen whole by eye, max = min + the partial or background
 *   faces (cut by the frame, turned away, out of focus), listed in detect-count.ts;
 * - a turned copy: the photograph's range, and the reported rotation must be the turn back.
 */
import { mulberry32 } from "../audio-eval/rng.ts";

export interface CountRange {
  min: number;
  max: number;
}

export const PORTRAIT: CountRange = { min: 1, max: 1 };

/** A portrait whose photo shows other people: 1..1+others. `why` is said in the report. */
export interface LabelFix extends CountRange {
  why: string;
}

export function expectedFor(photoId: string, labels: Readonly<Record<string, LabelFix>>): CountRange {
  const l = labels[photoId];
  return l ? { min: l.min, max: l.max } : PORTRAIT;
}

export const inRange = (count: number, r: CountRange): boolean => count >= r.min && count <= r.max;

/** Clockwise turn (degrees) that undoes a copy turned clockwise by `applied`. */
export const turnBack = (applied: number): number => (360 - (applied % 360)) % 360;

export interface CountRow {
  /** Which part of the report: "dev", "held-out", "group", "turned". */
  part: string;
  image: string;
  expected: CountRange;
  found: number;
  /** The turn face.detect must report (a turned copy: the turn back; a photo as stored: 0), and what it reported. */
  wantRotation?: number;
  rotation?: number;
  /** A failed job (its error), counted as a miss. */
  error?: string;
}

/** The count alone: in range, job did not fail. */
export const countOk = (r: CountRow): boolean => r.error === undefined && inRange(r.found, r.expected);
/** The count and, where the row names one, the turn reported. */
export const rowOk = (r: CountRow): boolean => countOk(r) && (r.wantRotation === undefined || r.rotation === r.wantRotation);

export interface PartScore {
  part: string;
  total: number;
  inRange: number;
  pct: number;
  /** Rows whose count is in range, whatever turn they report. */
  countInRange: number;
  misses: CountRow[];
}

/** Per part in first-seen order, then "all". */
export function scoreCounts(rows: readonly CountRow[]): PartScore[] {
  const parts = [...new Set(rows.map((r) => r.part))];
  const one = (part: string, rs: readonly CountRow[]): PartScore => {
    const ok = rs.filter(rowOk).length;
    return {
      part,
      total: rs.length,
      inRange: ok,
      pct: rs.length ? (100 * ok) / rs.length : 0,
      countInRange: rs.filter(countOk).length,
      misses: rs.filter((r) => !rowOk(r)),
    };
  };
  return [
    ...parts.map((p) =>
      one(
        p,
        rows.filter((r) => r.part === p),
      ),
    ),
    one("all", rows),
  ];
}

/** A fixed sample of `n` items (seeded partial Fisher-Yates): the turned copies are the same on every run. */
export function seededSample<T>(items: readonly T[], n: number, seed: number): T[] {
  const a = [...items];
  const r = mulberry32(seed);
  const k = Math.min(n, a.length);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(r() * (a.length - i));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a.slice(0, k);
}

const fmtRange = (r: CountRange) => (r.min === r.max ? String(r.min) : `${r.min}..${r.max}`);

/** The markdown the report prints (BENCHMARKS.md "face", detection count). */
export function countTable(scores: readonly PartScore[]): string {
  const lines = [
    "| part | photos | in range, and the right turn reported (0 as stored) | % | count in range, turn not checked | % |",
    "|---|---:|---:|---:|---:|---:|",
  ];
  const pct = (k: number, n: number) => (n ? ((100 * k) / n).toFixed(1) : "n/a");
  for (const s of scores) lines.push(`| ${s.part} | ${s.total} | ${s.inRange} | ${s.pct.toFixed(1)} | ${s.countInRange} | ${pct(s.countInRange, s.total)} |`);
  const misses = scores.filter((s) => s.part !== "all").flatMap((s) => s.misses);
  lines.push("", misses.length ? "Misses (image, expected, found):" : "No misses.");
  for (const m of misses) {
    const rot = m.wantRotation === undefined ? "" : `, rotation ${m.rotation ?? "-"} (want ${m.wantRotation})`;
    lines.push(`- ${m.part}: ${m.image}: expected ${fmtRange(m.expected)}, found ${m.error ? `error ${m.error}` : m.found}${rot}`);
  }
  return lines.join("\n");
}
