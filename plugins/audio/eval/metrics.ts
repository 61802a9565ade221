/**
 * Evaluation metrics of the field (as in mir_eval / MIREX):
 * beat and downbeat F-measure with a ±70 ms window, tempo Acc1 (within 4 %) and Acc2
 * (within 4 % allowing ×2, ×3, ×½, ×⅓ octave errors), MIREX weighted key score and
 * section boundary hit rate at ±3 s.
 */

export interface PRF {
  precision: number;
  recall: number;
  f: number;
}

/** One-to-one matching of sorted event lists within ±tol (greedy in time order). */
export function matchEvents(ref: number[], est: number[], tol: number): PRF {
  if (ref.length === 0 && est.length === 0) return { precision: 1, recall: 1, f: 1 };
  if (ref.length === 0 || est.length === 0) return { precision: 0, recall: 0, f: 0 };
  const r = [...ref].sort((a, b) => a - b);
  const e = [...est].sort((a, b) => a - b);
  const used = new Uint8Array(e.length);
  let hits = 0;
  let j0 = 0;
  for (const t of r) {
    while (j0 < e.length && (e[j0] as number) < t - tol) j0++;
    let best = -1;
    let bd = Infinity;
    for (let j = j0; j < e.length && (e[j] as number) <= t + tol; j++) {
      const d = Math.abs((e[j] as number) - t);
      if (!used[j] && d < bd) {
        bd = d;
        best = j;
      }
    }
    if (best >= 0) {
      used[best] = 1;
      hits++;
    }
  }
  const precision = hits / e.length;
  const recall = hits / r.length;
  return { precision, recall, f: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0 };
}

export const beatF = (ref: number[], est: number[], tol = 0.07) => matchEvents(ref, est, tol).f;

/** Acc1: estimate within ±4 % of the reference tempo (octave errors are misses). */
export function tempoAcc1(refBpm: number, estBpm: number | null | undefined, tol = 0.04): boolean {
  return typeof estBpm === "number" && estBpm > 0 && Math.abs(estBpm - refBpm) <= tol * refBpm;
}

/** Acc2: like Acc1 but ×2, ×3, ×½, ×⅓ of the reference also count. */
export function tempoAcc2(refBpm: number, estBpm: number | null | undefined, tol = 0.04): boolean {
  return [1, 2, 3, 1 / 2, 1 / 3].some((k) => tempoAcc1(refBpm * k, estBpm, tol));
}

const PCS: Record<string, number> = {
  C: 0,
  "C#": 1,
  DB: 1,
  D: 2,
  "D#": 3,
  EB: 3,
  E: 4,
  F: 5,
  "F#": 6,
  GB: 6,
  G: 7,
  "G#": 8,
  AB: 8,
  A: 9,
  "A#": 10,
  BB: 10,
  B: 11,
};

function parseKey(k: string): { pc: number; mode: string } | null {
  const [name, mode] = k.trim().split(/\s+/);
  const pc = name ? PCS[name.toUpperCase()] : undefined;
  if (pc === undefined || (mode !== "major" && mode !== "minor")) return null;
  return { pc, mode };
}

/** MIREX key score: 1 same key, 0.5 fifth above (same mode), 0.3 relative, 0.2 parallel, else 0. */
export function keyScore(ref: string, est: string | null | undefined): number {
  const r = parseKey(ref);
  const e = est ? parseKey(est) : null;
  if (!r || !e) return 0;
  const d = (((e.pc - r.pc) % 12) + 12) % 12;
  if (r.mode === e.mode && d === 0) return 1;
  if (r.mode === e.mode && d === 7) return 0.5;
  if (r.mode === "major" && e.mode === "minor" && d === 9) return 0.3;
  if (r.mode === "minor" && e.mode === "major" && d === 3) return 0.3;
  if (r.mode !== e.mode && d === 0) return 0.2;
  return 0;
}

/** Section boundary hit rate (P/R/F) at ±tol seconds; song start and end are not boundaries. */
export function boundaryHitRate(refBoundaries: number[], estSegments: { start: number; end: number }[], tol = 3): PRF {
  const est = estSegments.slice(1).map((s) => s.start);
  return matchEvents(refBoundaries, est, tol);
}

/**
 * Section label accuracy: share of time (sampled every `step` s) where the estimated
 * segment's type equals the reference section's type.
 */
export function labelAccuracy(ref: { start: number; end: number; type: string }[], est: { start: number; end: number; type: string }[], step = 0.5): number {
  const end = ref.length > 0 ? (ref[ref.length - 1] as { end: number }).end : 0;
  let hit = 0;
  let n = 0;
  for (let t = (ref[0]?.start ?? 0) + step / 2; t < end; t += step) {
    const r = ref.find((s) => t >= s.start && t < s.end);
    const e = est.find((s) => t >= s.start && t < s.end);
    if (!r) continue;
    n++;
    if (e && e.type === r.type) hit++;
  }
  return n > 0 ? hit / n : 0;
}
