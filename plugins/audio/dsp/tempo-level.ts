/**
 * Choosing the metrical level of the beat (tempo octave, 3:2 and 4:3 errors) from the
 * evidence real music carries, as candidates scored by a conditional-logit model:
 *
 *  - candidates: the prior-weighted autocorrelation peak P0 times 1/3 … 3 (all the
 *    levels a listener may tap: double, half, 2/3, 3/2, 4/3, 3/4), each refined to the
 *    nearest autocorrelation peak;
 *  - evidence per candidate period L, all read off autocorrelations (so a candidate costs
 *    a few lookups, not a beat-tracking pass):
 *      · log-normal tempo prior around 120 BPM (Parncutt 1994, Moelants 2002);
 *      · periodicity of the whole onset envelope at L/3, L/2, L, 2L, 3L, 4L: the accent
 *        strength of each metrical level around the candidate;
 *      · percussive part only (median-filter separation, percussive.ts): kick (low), snare
 *        body (mid) and hi-hat/cymbal (high) periodicity at L/2, L, 2L, 4L — hats repeat
 *        at the subdivision, kick and snare at the beat and the bar;
 *      · harmonic change rate: periodicity of the chord-change envelope at L, 2L, 3L, 4L
 *        (chords change at bar lines, one cue among several);
 *      · kick/snare alternation: cross-correlation of the kick and snare envelopes at L/2,
 *        L and 2L. Kick on 1 and 3 with snare on 2 and 4 puts the snare one beat after the
 *        kick (and the kick one beat after the snare): the phase between the two drums,
 *        which their autocorrelations alone do not carry, marks the beat level itself.
 *  - weights: fitted by scripts/audio-eval/fit-tempo-level.ts on the synthetic set and
 *    the real-instrument dev set (never on the held-out set), stored in
 *    tempo-level-weights.ts.
 */
import { autocorrelation, logNormalPrior } from "./tempo.ts";
import type { Chromagram } from "./chroma.ts";
import type { PercussiveOnsets } from "./percussive.ts";
import { LEVEL_WEIGHTS } from "./tempo-level-weights.ts";

export const LEVEL_RATIOS = [1, 2, 1 / 2, 3, 1 / 3, 3 / 2, 2 / 3, 4 / 3, 3 / 4];
const MIN_BPM = 40;
/** Fastest beat reported (also the bound for a bar split into three beats, analyze.ts). */
export const MAX_BPM = 240;

export interface LevelEvidence {
  frameRate: number;
  onset: Float32Array;
  low: Float32Array;
  mid: Float32Array;
  high: Float32Array;
  /** Chord change per onset frame (resampled from chroma frames). */
  chordAcf: Float32Array;
  chordRate: number;
}

export interface LevelCandidate {
  /** Beat period in onset frames. */
  lag: number;
  bpm: number;
  features: number[];
}

/** Autocorrelations of every evidence envelope, up to 4 bars of the slowest tempo. */
export function levelEvidence(
  frameRate: number,
  onset: Float32Array,
  perc: PercussiveOnsets,
  chroma: Chromagram | null,
): {
  acf: Record<"onset" | "low" | "mid" | "high", Float32Array>;
  chord: Float32Array | null;
  chordRate: number;
  frameRate: number;
  perc: PercussiveOnsets;
  percNorm: number;
} {
  const maxLag = Math.ceil(((60 * frameRate) / MIN_BPM) * 4.2);
  const chord = chroma ? autocorrelation(chordChange(chroma), Math.ceil(((60 * chroma.frameRate) / MIN_BPM) * 4.2)) : null;
  return {
    acf: {
      onset: autocorrelation(onset, maxLag),
      low: autocorrelation(perc.low, maxLag),
      mid: autocorrelation(perc.mid, maxLag),
      high: autocorrelation(perc.high, maxLag),
    },
    chord,
    chordRate: chroma?.frameRate ?? 1,
    frameRate,
    perc,
    percNorm: crossNorm(perc.low, perc.mid),
  };
}

/**
 * Normalised cross-correlation of two envelopes at an integer lag, both orders averaged
 * (b after a and a after b): alternating drums give both.
 */
export function crossAt(a: Float32Array, b: Float32Array, lag: number, norm = crossNorm(a, b)): number {
  const n = Math.min(a.length, b.length);
  if (lag <= 0 || lag >= n || !(norm > 0)) return 0;
  let ab = 0;
  for (let t = 0; t + lag < n; t++) ab += (a[t] as number) * (b[t + lag] as number) + (b[t] as number) * (a[t + lag] as number);
  return ((ab / 2) * (n / (n - lag))) / norm;
}

/** sqrt(Σa² · Σb²) over the common length: crossAt's normaliser, computed once per song. */
export function crossNorm(a: Float32Array, b: Float32Array): number {
  const n = Math.min(a.length, b.length);
  let aa = 0;
  let bb = 0;
  for (let t = 0; t < n; t++) {
    aa += (a[t] as number) * (a[t] as number);
    bb += (b[t] as number) * (b[t] as number);
  }
  return Math.sqrt(aa * bb);
}

/** Largest kick/snare cross-correlation within ±3 % of `lag`. */
function crossNear(ev: ReturnType<typeof levelEvidence>, lag: number): number {
  let m = -1;
  for (let i = Math.max(1, Math.floor(lag * 0.97)); i <= Math.ceil(lag * 1.03); i++) m = Math.max(m, crossAt(ev.perc.low, ev.perc.mid, i, ev.percNorm));
  return m;
}

/** Cosine distance of each chroma frame's low-register profile to the one before (0 at frame 0). */
export function chordChange(c: Chromagram): Float32Array {
  const out = new Float32Array(c.nFrames);
  for (let f = 2; f < c.nFrames; f++) {
    let ab = 0;
    let aa = 0;
    let bb = 0;
    for (let k = 0; k < 12; k++) {
      // Two-frame averages (≈ 190 ms) so a strum's attack does not read as a change.
      const a = (c.lowChroma[f * 12 + k] as number) + (c.lowChroma[(f - 1) * 12 + k] as number);
      const b = (c.lowChroma[(f - 1) * 12 + k] as number) + (c.lowChroma[(f - 2) * 12 + k] as number);
      ab += a * b;
      aa += a * a;
      bb += b * b;
    }
    out[f] = aa > 0 && bb > 0 ? 1 - ab / Math.sqrt(aa * bb) : 0;
  }
  return out;
}

/** Largest autocorrelation within ±3 % of `lag` (linear interpolation between lags). */
function near(acf: Float32Array, lag: number): number {
  const lo = Math.max(1, Math.floor(lag * 0.97));
  const hi = Math.min(acf.length - 1, Math.ceil(lag * 1.03));
  let m = -1;
  for (let i = lo; i <= hi; i++) m = Math.max(m, acf[i] as number);
  return hi >= lo ? m : 0;
}

export function candidateFeatures(ev: ReturnType<typeof levelEvidence>, lag: number): number[] {
  const bpm = (60 * ev.frameRate) / lag;
  const z = Math.log2(bpm / 120);
  const o = ev.acf.onset;
  const cLag = (lag * ev.chordRate) / ev.frameRate;
  const ch = (m: number) => (ev.chord ? near(ev.chord, cLag * m) : 0);
  return [
    z,
    z * z,
    Math.log(logNormalPrior(bpm, {}) + 1e-9),
    near(o, lag / 3),
    near(o, lag / 2),
    near(o, lag),
    near(o, 2 * lag),
    near(o, 3 * lag),
    near(o, 4 * lag),
    near(ev.acf.low, lag / 2),
    near(ev.acf.low, lag),
    near(ev.acf.low, 2 * lag),
    near(ev.acf.low, 4 * lag),
    near(ev.acf.mid, lag / 2),
    near(ev.acf.mid, lag),
    near(ev.acf.mid, 2 * lag),
    near(ev.acf.high, lag / 2),
    near(ev.acf.high, lag),
    near(ev.acf.high, 2 * lag),
    ch(1),
    ch(2),
    ch(3),
    ch(4),
    crossNear(ev, lag / 2),
    crossNear(ev, lag),
    crossNear(ev, 2 * lag),
  ];
}

/** Candidate levels around P0 (duplicates within 3 % merged), each refined to its ACF peak. */
export function levelCandidates(ev: ReturnType<typeof levelEvidence>, p0: number): LevelCandidate[] {
  const out: LevelCandidate[] = [];
  const o = ev.acf.onset;
  for (const r of LEVEL_RATIOS) {
    let lag = p0 / r;
    const bpm = (60 * ev.frameRate) / lag;
    if (bpm < MIN_BPM || bpm > MAX_BPM) continue;
    // Refine to the local maximum within ±4 % (a true peak if there is one).
    let best = Math.round(lag);
    for (let i = Math.max(2, Math.floor(lag * 0.96)); i <= Math.min(o.length - 2, Math.ceil(lag * 1.04)); i++)
      if ((o[i] as number) > (o[best] as number)) best = i;
    if ((o[best] as number) >= (o[best - 1] as number) && (o[best] as number) >= (o[best + 1] as number)) lag = best;
    if (out.some((c) => Math.abs(c.lag / lag - 1) < 0.03)) continue;
    // The ratio to P0 as one-hot features: how often each kind of error of the
    // prior-weighted peak occurs is itself evidence.
    const ratio = LEVEL_RATIOS.map((q) => (q === r ? 1 : 0));
    out.push({ lag, bpm: (60 * ev.frameRate) / lag, features: [...candidateFeatures(ev, lag), ...ratio] });
  }
  return withRelative(out);
}

/** Features 3.. (autocorrelations) that are also given relative to the song's strongest candidate. */
const ACF_FIRST = 3;
const ACF_COUNT = 23;

/**
 * Appends each autocorrelation feature divided by its largest value over the song's
 * candidates: how strong a level is relative to the other levels of the same song, which
 * does not depend on how percussive or compressed the recording is.
 */
export function withRelative(cands: LevelCandidate[]): LevelCandidate[] {
  const n = ACF_FIRST + ACF_COUNT + LEVEL_RATIOS.length;
  const max = new Array<number>(ACF_COUNT).fill(0);
  for (const c of cands) for (let i = 0; i < ACF_COUNT; i++) max[i] = Math.max(max[i] as number, c.features[ACF_FIRST + i] as number);
  return cands.map((c) => ({
    ...c,
    features: [...c.features.slice(0, n), ...max.map((m, i) => (m > 1e-6 ? Math.max(0, c.features[ACF_FIRST + i] as number) / m : 0))],
  }));
}

export function scoreCandidate(features: number[], weights: readonly number[] = LEVEL_WEIGHTS): number {
  let s = 0;
  for (let i = 0; i < features.length; i++) s += (features[i] as number) * (weights[i] ?? 0);
  return s;
}

export interface LevelChoice {
  lag: number;
  /** Softmax probability of the chosen level among the candidates. */
  probability: number;
  /** The runner-up's period (frames), 0 when there was a single candidate. */
  altLag: number;
}

/** Octaves of the beat network's period a candidate may sit at (within 4 %). */
const NETWORK_OCTAVES = [0.5, 1, 2];

/**
 * The level among the candidates around p0. With `networkLag` (the period of the beat
 * network's activation, beat-net/model.ts) only candidates at half, one or two times it
 * are allowed: the network carries to music we did not write where our features do not
 * (dev-games tempo 57 -> 66 %, BENCHMARKS.md), but its own octave is less reliable than the
 * level model's at extreme tempi, so it rules out 3:2 and 4:3 answers and the level model
 * picks the octave. No allowed candidate: the network's period, with no runner-up.
 */
export function chooseLevel(ev: ReturnType<typeof levelEvidence>, p0: number, networkLag?: number): LevelChoice {
  let cands = levelCandidates(ev, p0);
  if (networkLag !== undefined && networkLag > 0) {
    cands = cands.filter((c) => NETWORK_OCTAVES.some((q) => Math.abs(c.lag / (networkLag * q) - 1) <= 0.04));
    if (cands.length === 0) return { lag: networkLag, probability: 0, altLag: 0 };
  }
  if (cands.length === 0) return { lag: p0, probability: 0, altLag: 0 };
  const scores = cands.map((c) => scoreCandidate(c.features));
  const max = Math.max(...scores);
  const ex = scores.map((s) => Math.exp(s - max));
  const sum = ex.reduce((a, b) => a + b, 0);
  const order = scores.map((s, i) => [s, i] as const).sort((a, b) => b[0] - a[0]);
  const first = order[0]![1];
  const second = order[1]?.[1];
  return {
    lag: cands[first]!.lag,
    probability: (ex[first] as number) / sum,
    altLag: second === undefined ? 0 : cands[second]!.lag,
  };
}
