/**
 * Music structure analysis on a beat-synchronous self-similarity matrix (SSM):
 * boundaries from Foote's checkerboard-kernel novelty along the diagonal, then labels
 * from repetition (segments whose mean harmony+timbre match are the same part) and
 * energy (the loudest repeated part is the chorus). The SSM is N×N over beat units
 * with N capped (MAX_UNITS), so memory is bounded whatever the audio length.
 */

export type SegmentType = "intro" | "verse" | "chorus" | "bridge" | "outro";

export interface Segment {
  start: number;
  end: number;
  type: SegmentType;
  /** Repetition group: segments sharing a letter repeat the same material. */
  group: string;
  /** Mean loudness of the segment relative to the loudest, 0..1. */
  energy: number;
}

export const MAX_UNITS = 720;
/** Novelty below this (within-minus-across similarity) is texture noise, not a section change. */
const MIN_NOVELTY = 0.04;
const TIMBRE_FLOOR = 1;
/**
 * Feature weights (squared weights sum to 1, so rows stay unit-norm at most). Timbre
 * (instrumentation, density, loudness) marks section changes; chroma changes with every
 * chord inside a section, so it weighs less.
 */
const CHROMA_W = 0.4;
const TIMBRE_W = Math.sqrt(1 - CHROMA_W * CHROMA_W);

export interface StructureInput {
  /** Unit boundary times, seconds (n+1 values for n units). */
  unitTimes: number[];
  /** 12 chroma values per unit. */
  chroma: Float32Array;
  /** `timbreDim` log-band values per unit. */
  timbre: Float32Array;
  timbreDim: number;
  /** RMS per unit (linear). */
  rms: Float32Array;
  /** Kernel half-width and minimum section length, in units (≈ 2-4 bars and 4 bars). */
  kernelUnits: number;
  minSegmentUnits: number;
  /** Minimum length of the first and last section (intros/outros may be short), units. */
  minEdgeUnits: number;
  /** Candidate boundary times to snap to (downbeats); optional. */
  snapTimes?: number[];
}

/** Feature rows: unit-norm chroma and mean-removed timbre (norm floored), weighted. */
function unitFeatures(inp: StructureInput, n: number): Float32Array[] {
  const td = inp.timbreDim;
  const mean = new Float64Array(td);
  for (let u = 0; u < n; u++) for (let d = 0; d < td; d++) mean[d] = (mean[d] as number) + (inp.timbre[u * td + d] as number) / n;
  const rows: Float32Array[] = [];
  for (let u = 0; u < n; u++) {
    const v = new Float32Array(12 + td);
    let cn = 0;
    for (let k = 0; k < 12; k++) cn += (inp.chroma[u * 12 + k] as number) ** 2;
    cn = Math.sqrt(cn) || 1;
    for (let k = 0; k < 12; k++) v[k] = ((inp.chroma[u * 12 + k] as number) / cn) * CHROMA_W;
    let tn = 0;
    for (let d = 0; d < td; d++) tn += ((inp.timbre[u * td + d] as number) - (mean[d] as number)) ** 2;
    // Floor: deviations below ~1 log unit (≈ 4 dB across the bands) are texture noise;
    // without it, unit-normalising would blow noise up into fake section changes.
    tn = Math.max(TIMBRE_FLOOR, Math.sqrt(tn));
    for (let d = 0; d < td; d++) v[12 + d] = (((inp.timbre[u * td + d] as number) - (mean[d] as number)) / tn) * TIMBRE_W;
    rows.push(v);
  }
  return rows;
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

/** Foote novelty: Gaussian-tapered checkerboard kernel slid along the SSM diagonal. */
export function checkerboardNovelty(ssm: Float32Array, n: number, L: number): Float32Array {
  const nov = new Float32Array(n);
  const sigma = L / 2;
  const g = (a: number) => Math.exp(-0.5 * (a / sigma) ** 2);
  for (let i = 0; i < n; i++) {
    let s = 0;
    let wsum = 0;
    for (let a = -L; a < L; a++) {
      const ia = i + a;
      if (ia < 0 || ia >= n) continue;
      for (let b = -L; b < L; b++) {
        const ib = i + b;
        if (ib < 0 || ib >= n) continue;
        // Same side of the diagonal point (both before or both after) = +1, across = -1.
        const sign = a < 0 === b < 0 ? 1 : -1;
        const w = g(a + 0.5) * g(b + 0.5);
        s += sign * w * (ssm[ia * n + ib] as number);
        wsum += w;
      }
    }
    // Normalised by the kernel mass: novelty is then a similarity difference (within
    // minus across), comparable between songs and with an absolute floor.
    nov[i] = wsum > 0 ? Math.max(0, s / wsum) : 0;
  }
  return nov;
}

/** Greedy peak picking: highest first, at least `minGap` apart and above mean + 0.5·sd. */
function pickPeaks(nov: Float32Array, minGap: number, minEdge: number): number[] {
  const n = nov.length;
  // Statistics from the interior only: at the edges the kernel is truncated and inflated.
  const interior = nov.subarray(Math.min(minEdge, n), Math.max(Math.min(minEdge, n), n - minEdge));
  const stats = interior.length > 0 ? interior : nov;
  let m = 0;
  for (const v of stats) m += v;
  m /= Math.max(1, stats.length);
  let sd = 0;
  for (const v of stats) sd += (v - m) ** 2;
  sd = Math.sqrt(sd / Math.max(1, stats.length));
  const thr = Math.max(MIN_NOVELTY, m + 0.5 * sd);
  const cands: number[] = [];
  for (let i = 1; i < n - 1; i++) {
    const v = nov[i] as number;
    if (v > thr && v >= (nov[i - 1] as number) && v >= (nov[i + 1] as number)) cands.push(i);
  }
  cands.sort((a, b) => (nov[b] as number) - (nov[a] as number));
  const picked: number[] = [];
  for (const c of cands) {
    if (c < minEdge || n - c < minEdge) continue;
    if (picked.every((p) => Math.abs(p - c) >= minGap)) picked.push(c);
  }
  return picked.sort((a, b) => a - b);
}

export function analyzeStructure(inp: StructureInput): Segment[] {
  const n = inp.unitTimes.length - 1;
  if (n <= 0) return [];
  const start = inp.unitTimes[0] as number;
  const end = inp.unitTimes[n] as number;
  const rows = unitFeatures(inp, n);
  const ssm = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const s = dot(rows[i] as Float32Array, rows[j] as Float32Array);
      ssm[i * n + j] = s;
      ssm[j * n + i] = s;
    }
  }
  const nov = checkerboardNovelty(ssm, n, Math.max(2, inp.kernelUnits));
  const peaks = n >= 2 * inp.minEdgeUnits ? pickPeaks(nov, inp.minSegmentUnits, inp.minEdgeUnits) : [];
  const cuts = [0, ...peaks, n];
  const bounds = cuts.map((u) => snap(inp.unitTimes[u] as number, inp.snapTimes, u === 0 || u === n));
  bounds[0] = start;
  bounds[bounds.length - 1] = end;

  // Segment summaries for labelling: mean feature row (re-normalised) and loudness.
  const segs = cuts.slice(0, -1).map((a, k) => {
    const b = cuts[k + 1] as number;
    const v = new Float32Array(rows[0]?.length ?? 0);
    let e = 0;
    for (let u = a; u < b; u++) {
      const r = rows[u] as Float32Array;
      for (let d = 0; d < v.length; d++) v[d] = (v[d] as number) + (r[d] as number);
      e += (inp.rms[u] as number) ** 2;
    }
    const norm = Math.sqrt(dot(v, v)) || 1;
    for (let d = 0; d < v.length; d++) v[d] = (v[d] as number) / norm;
    return { a, b, v, rms: Math.sqrt(e / Math.max(1, b - a)) };
  });
  const groups = groupSegments(segs.map((s) => s.v));
  const maxRms = Math.max(...segs.map((s) => s.rms), 1e-12);
  const energies = segs.map((s) => s.rms / maxRms);
  const types = labelSegments(groups, energies);
  return segs.map((s, k) => ({
    start: round3(bounds[k] as number),
    end: round3(bounds[k + 1] as number),
    type: types[k] as SegmentType,
    group: String.fromCharCode(65 + ((groups[k] as number) % 26)),
    energy: round3(energies[k] as number),
  }));
}

/** Segments whose mean feature vectors are within cosine `theta` share a group (greedy, first-come). */
export function groupSegments(vecs: Float32Array[], theta = 0.8): number[] {
  const reps: Float32Array[] = [];
  return vecs.map((v) => {
    let best = -1;
    let bestS = theta;
    reps.forEach((r, g) => {
      const s = dot(r, v);
      if (s >= bestS) {
        bestS = s;
        best = g;
      }
    });
    if (best >= 0) return best;
    reps.push(v);
    return reps.length - 1;
  });
}

/**
 * Labels from repetition and energy, not from position templates:
 * - the loudest repeated group is the chorus; other repeated groups are verses;
 * - a non-repeated (or intro/outro-only) first segment quieter than the song is the intro,
 *   likewise the last one the outro; other non-repeated segments are bridges;
 * - with a single repeated group, it is the chorus when it is louder than the rest,
 *   otherwise the verse.
 */
export function labelSegments(groups: number[], energy: number[]): SegmentType[] {
  const n = groups.length;
  if (n === 0) return [];
  if (n === 1) return ["verse"];
  const count = new Map<number, number>();
  groups.forEach((g) => count.set(g, (count.get(g) ?? 0) + 1));
  const meanE = energy.reduce((a, b) => a + b, 0) / n;
  const out: (SegmentType | undefined)[] = new Array(n).fill(undefined);
  const first = groups[0] as number;
  const last = groups[n - 1] as number;
  const onlyEdges = (g: number) => groups.every((x, i) => x !== g || i === 0 || i === n - 1);
  if ((count.get(first) === 1 || onlyEdges(first)) && (energy[0] as number) <= meanE) out[0] = "intro";
  if ((count.get(last) === 1 || onlyEdges(last)) && (energy[n - 1] as number) <= meanE) out[n - 1] = "outro";
  const groupEnergy = new Map<number, number>();
  groups.forEach((g, i) => {
    if (out[i] === undefined) groupEnergy.set(g, Math.max(groupEnergy.get(g) ?? 0, energy[i] as number));
  });
  const repeated = [...groupEnergy.keys()].filter((g) => groups.filter((x, i) => x === g && out[i] === undefined).length >= 2);
  repeated.sort((a, b) => (groupEnergy.get(b) ?? 0) - (groupEnergy.get(a) ?? 0));
  let chorus = repeated[0];
  if (repeated.length === 1 && chorus !== undefined) {
    const restE = groups.map((g, i) => (g !== chorus && out[i] === undefined ? (energy[i] as number) : -1)).filter((e) => e >= 0);
    if (restE.length > 0 && Math.max(...restE) > (groupEnergy.get(chorus) ?? 0)) chorus = undefined;
  }
  for (let i = 0; i < n; i++) {
    if (out[i] !== undefined) continue;
    const g = groups[i] as number;
    if (g === chorus) out[i] = "chorus";
    else if (repeated.includes(g)) out[i] = "verse";
    else out[i] = "bridge";
  }
  return out as SegmentType[];
}

function snap(t: number, cands: number[] | undefined, edge: boolean): number {
  if (edge || !cands || cands.length === 0) return t;
  let best = t;
  let bd = Infinity;
  for (const c of cands) {
    const d = Math.abs(c - t);
    if (d < bd) {
      bd = d;
      best = c;
    }
  }
  return bd <= 2.5 ? best : t;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
