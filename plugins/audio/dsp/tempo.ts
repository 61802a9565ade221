/**
 * Tempo estimation from the onset-strength envelope: autocorrelation (computed with an
 * FFT) weighted by a log-normal tempo prior, plus a local tempo curve from a windowed
 * autocorrelation (tempogram) so the beat tracker can follow tempo changes.
 */
import FFT from "fft.js";

export interface TempoOptions {
  /** Centre of the log-normal tempo prior, BPM. Default 120 (the perceptual preference). */
  priorBpm?: number;
  /** Width of the prior in octaves (std of log2 tempo). Default 1.0. */
  priorOctaves?: number;
  minBpm?: number;
  maxBpm?: number;
}

export interface TempoEstimate {
  /** Beat period in frames (fractional, parabolic-interpolated); 0 when no pulse. */
  periodFrames: number;
  bpm: number;
  /** Normalised autocorrelation at the chosen lag, 0..1: how periodic the envelope is. */
  periodicity: number;
  /** Normalised ACF over lags (index = lag in frames), for diagnostics and meter. */
  acf: Float32Array;
}

/**
 * Up to this many lags the sums are taken directly (n·maxLag multiplies), above it through
 * an FFT padded to n + maxLag: for a 3-minute envelope (17 k frames) the tempo's 131 lags
 * take ~3.5 ms directly, the level evidence's 543 lags ~5-8 ms by FFT (measured; the FFT
 * path padded to 2n on plain arrays took 15 ms).
 */
const DIRECT_MAX_LAG = 200;

/** Autocorrelation of `v` for lags 0..maxLag, normalised so acf[0] = 1 (all zeros if v is flat). */
export function autocorrelation(v: Float32Array, maxLag: number): Float32Array {
  return maxLag <= DIRECT_MAX_LAG ? directAutocorrelation(v, maxLag) : fftAutocorrelation(v, maxLag);
}

function directAutocorrelation(v: Float32Array, maxLag: number): Float32Array {
  const n = v.length;
  const x = new Float64Array(n);
  let mean = 0;
  for (let i = 0; i < n; i++) mean += v[i] as number;
  mean /= Math.max(1, n);
  for (let i = 0; i < n; i++) x[i] = (v[i] as number) - mean;
  const out = new Float32Array(Math.max(0, Math.min(maxLag, n - 1) + 1));
  let zero = 0;
  for (let i = 0; i < n; i++) zero += (x[i] as number) * (x[i] as number);
  if (!(zero > 1e-12)) return out;
  for (let l = 0; l < out.length; l++) {
    let s = 0;
    for (let i = 0, j = l; j < n; i++, j++) s += (x[i] as number) * (x[j] as number);
    // The same overlap correction as the FFT path.
    out[l] = (s / zero) * (n / Math.max(1, n - l));
  }
  return out;
}

function fftAutocorrelation(v: Float32Array, maxLag: number): Float32Array {
  const n = v.length;
  // fft.js needs a size of 2 or more; fewer than 2 samples have no periodicity anyway.
  if (n < 2) return new Float32Array(n);
  // Zero padding to n + maxLag is enough for the lags asked (no circular wrap below it).
  let size = 2;
  while (size < n + Math.min(maxLag, n)) size <<= 1;
  const fft = new FFT(size);
  const buf = new Float64Array(2 * size);
  const input = new Float64Array(size);
  let mean = 0;
  for (let i = 0; i < n; i++) mean += v[i] as number;
  mean /= Math.max(1, n);
  for (let i = 0; i < n; i++) input[i] = (v[i] as number) - mean;
  fft.realTransform(buf, input);
  fft.completeSpectrum(buf);
  for (let k = 0; k < size; k++) {
    const re = buf[2 * k] as number;
    const im = buf[2 * k + 1] as number;
    buf[2 * k] = re * re + im * im;
    buf[2 * k + 1] = 0;
  }
  const back = new Float64Array(2 * size);
  fft.inverseTransform(back, buf);
  const out = new Float32Array(Math.min(maxLag, n - 1) + 1);
  const zero = back[0] as number;
  if (!(zero > 1e-12)) return out;
  // Unbiased-ish: divide by overlap so long lags are not penalised by the window.
  for (let l = 0; l < out.length; l++) out[l] = ((back[2 * l] as number) / zero) * (n / Math.max(1, n - l));
  return out;
}

export function logNormalPrior(bpm: number, opts: TempoOptions): number {
  const z = Math.log2(bpm / (opts.priorBpm ?? 120)) / (opts.priorOctaves ?? 1.0);
  return Math.exp(-0.5 * z * z);
}

/** Global tempo: the prior-weighted autocorrelation peak. */
export function estimateTempo(onset: Float32Array, frameRate: number, opts: TempoOptions = {}): TempoEstimate {
  const minBpm = opts.minBpm ?? 40;
  const maxBpm = opts.maxBpm ?? 240;
  const maxLag = Math.ceil((60 * frameRate) / minBpm) + 2;
  const acf = autocorrelation(onset, maxLag);
  const lagLo = Math.max(1, Math.floor((60 * frameRate) / maxBpm));
  const lagHi = Math.min(acf.length - 2, Math.ceil((60 * frameRate) / minBpm));
  let best = -1;
  let bestScore = 0;
  for (let l = lagLo; l <= lagHi; l++) {
    const r = acf[l] as number;
    // Only true local maxima are tempo candidates (avoids the slope of the lag-0 peak).
    if (!(r > 0 && r >= (acf[l - 1] as number) && r >= (acf[l + 1] as number))) continue;
    const s = r * logNormalPrior((60 * frameRate) / l, opts);
    if (s > bestScore) {
      bestScore = s;
      best = l;
    }
  }
  if (best < 0) return { periodFrames: 0, bpm: 0, periodicity: 0, acf };
  const period = best + parabolicOffset(acf, best);
  return { periodFrames: period, bpm: (60 * frameRate) / period, periodicity: Math.max(0, Math.min(1, acf[best] as number)), acf };
}

/** Sub-sample offset of a peak from the parabola through its neighbours. */
export function parabolicOffset(v: ArrayLike<number>, i: number): number {
  const a = v[i - 1];
  const b = v[i];
  const c = v[i + 1];
  if (a === undefined || b === undefined || c === undefined) return 0;
  const d = a - 2 * b + c;
  if (d >= 0) return 0;
  return Math.max(-0.5, Math.min(0.5, (0.5 * (a - c)) / d));
}

/**
 * Local beat period (frames) for every onset frame. A windowed autocorrelation is
 * evaluated every `hopS` seconds over lags within [period/1.3, period*1.3] of the
 * global period (so the metrical level stays the one chosen globally), weighted by a
 * log-lag preference for the global period, then fitted with a piecewise-constant
 * tempo (optimal partition): steady tempo within a section, clean steps between
 * sections, so the beat tracker re-locks right after a tempo change.
 */
/**
 * How far the local period may stray from the global one: 1.3 follows a 96 → 120 BPM
 * change (the synthetic set's song 7) but not a jump to 3/2 of the beat, which a march's
 * dotted rhythms invited when this was 1.5 (three real dev marches tracked at 2/3 of
 * their tempo; real dev Acc1 92.2 → 95.1 %).
 */
const LOCAL_RANGE = 1.3;

export function localTempoCurve(onset: Float32Array, frameRate: number, globalPeriod: number, windowS = 6, hopS = 0.5): Float32Array {
  const n = onset.length;
  const curve = new Float32Array(n).fill(globalPeriod);
  if (globalPeriod <= 0) return curve;
  const win = Math.round(windowS * frameRate);
  const hop = Math.max(1, Math.round(hopS * frameRate));
  if (n < win * 1.5) return curve;
  const lagLo = Math.max(2, Math.floor(globalPeriod / LOCAL_RANGE));
  const lagHi = Math.ceil(globalPeriod * LOCAL_RANGE);
  const centres: number[] = [];
  const periods: number[] = [];
  const r = new Float64Array(lagHi + 2);
  for (let c = Math.floor(win / 2); c + win / 2 <= n; c += hop) {
    const a = c - Math.floor(win / 2);
    const b = a + win;
    let e0 = 0;
    for (let i = a; i < b; i++) e0 += (onset[i] as number) * (onset[i] as number);
    if (e0 <= 1e-9) continue;
    for (let l = lagLo - 1; l <= lagHi + 1; l++) {
      let s = 0;
      for (let i = a + l; i < b; i++) s += (onset[i] as number) * (onset[i - l] as number);
      r[l] = s / e0;
    }
    let best = -1;
    let bestS = -Infinity;
    for (let l = lagLo; l <= lagHi; l++) {
      const z = Math.log2(l / globalPeriod) / 0.3;
      const s = (r[l] as number) * Math.exp(-0.5 * z * z);
      if (s > bestS) {
        bestS = s;
        best = l;
      }
    }
    centres.push(c);
    periods.push(best + parabolicOffset(r, best));
  }
  if (periods.length === 0) return curve;
  const smooth = piecewiseConstant(periods, Math.max(4, Math.round(4 / hopS)));
  for (let i = 0; i < n; i++) {
    // Piecewise-constant between window centres (nearest centre).
    const k = Math.min(smooth.length - 1, Math.max(0, Math.round((i - (centres[0] as number)) / hop)));
    curve[i] = smooth[k] as number;
  }
  return curve;
}

/**
 * Optimal piecewise-constant fit of log-periods (dynamic programming over partitions):
 * cost = Σ squared deviation from each piece's mean + PENALTY per piece, pieces at least
 * `minLen` values long. A tempo change of ≥ 4 % sustained over a few seconds pays for a
 * new piece; estimation jitter does not.
 */
export function piecewiseConstant(v: number[], minLen: number): number[] {
  const n = v.length;
  if (n < 2 * minLen) return v.map(() => median(v));
  const PENALTY = 0.02;
  const lv = v.map((x) => Math.log(x));
  const s1 = new Float64Array(n + 1);
  const s2 = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) {
    s1[i + 1] = (s1[i] as number) + (lv[i] as number);
    s2[i + 1] = (s2[i] as number) + (lv[i] as number) ** 2;
  }
  const sse = (a: number, b: number) => {
    const m = b - a;
    const sum = (s1[b] as number) - (s1[a] as number);
    return (s2[b] as number) - (s2[a] as number) - (sum * sum) / m;
  };
  const best = new Float64Array(n + 1).fill(Infinity);
  const from = new Int32Array(n + 1).fill(-1);
  best[0] = 0;
  for (let b = minLen; b <= n; b++) {
    for (let a = 0; a <= b - minLen; a++) {
      if (!Number.isFinite(best[a] as number)) continue;
      const c = (best[a] as number) + sse(a, b) + PENALTY;
      if (c < (best[b] as number)) {
        best[b] = c;
        from[b] = a;
      }
    }
  }
  const out = new Array<number>(n).fill(0);
  let b = n;
  if (!Number.isFinite(best[n] as number)) return v.map(() => median(v));
  while (b > 0) {
    const a = from[b] as number;
    // The piece's median (robust to the mixed windows that straddle a change).
    const m = median(v.slice(a, b));
    for (let i = a; i < b; i++) out[i] = m;
    b = a;
  }
  return out;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}
