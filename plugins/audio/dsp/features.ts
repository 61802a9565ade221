/**
 * Frame-level features from one STFT pass: log-compressed band energies on a
 * logarithmic frequency axis, the multi-band spectral-flux onset-strength envelope
 * (the input of tempo and beat tracking), a low-frequency onset envelope (kick-drum
 * accents, used for downbeats) and frame RMS (loudness / energy curve).
 */
import { stft } from "./stft.ts";

export interface FrameFeatures {
  /** Frames per second (sr / hop). */
  frameRate: number;
  nFrames: number;
  nBands: number;
  /** Centre frequency of each band, Hz. */
  bandHz: Float32Array;
  /** log(1 + γ·E) band energies, frame-major: bands[f * nBands + b]. */
  bands: Float32Array;
  /** Onset strength (mean half-wave-rectified log-band flux), local-mean removed. */
  onset: Float32Array;
  /** Onset strength of the bands below ~200 Hz (kick / bass accents), local-mean removed. */
  lowOnset: Float32Array;
  /** Root-mean-square amplitude per frame (linear, full scale = 1). */
  rms: Float32Array;
}

export interface FeatureOptions {
  nfft?: number;
  hop?: number;
  nBands?: number;
  fMin?: number;
  fMax?: number;
}

/** Log-compression gain applied after normalising band energies to the loudest frame. */
const LOG_GAIN = 1000;
const LOW_BAND_HZ = 200;

export function frameFeatures(x: Float32Array, sr: number, opts: FeatureOptions = {}, signal?: AbortSignal): FrameFeatures {
  // ~46 ms window, 75 % overlap (11.6 ms frames at 22.05 or 11.025 kHz).
  const nfft = opts.nfft ?? (sr > 30000 ? 2048 : sr > 15000 ? 1024 : 512);
  const hop = opts.hop ?? nfft / 4;
  const nBands = opts.nBands ?? 36;
  const fMin = opts.fMin ?? 30;
  const fMax = Math.min(opts.fMax ?? 10000, sr / 2 - 1);
  // Band edges on a log axis; each band owns at least one FFT bin.
  const edgesHz = new Float64Array(nBands + 1);
  for (let b = 0; b <= nBands; b++) edgesHz[b] = fMin * Math.pow(fMax / fMin, b / nBands);
  const binOf = (hz: number) => Math.round((hz * nfft) / sr);
  const lo = new Int32Array(nBands);
  const hi = new Int32Array(nBands);
  const bandHz = new Float32Array(nBands);
  for (let b = 0; b < nBands; b++) {
    const l = binOf(edgesHz[b] as number);
    lo[b] = l;
    hi[b] = Math.max(l + 1, binOf(edgesHz[b + 1] as number));
    bandHz[b] = Math.sqrt((edgesHz[b] as number) * (edgesHz[b + 1] as number));
  }
  const nFramesEst = Math.floor(x.length / hop) + 1;
  const bands = new Float32Array(nFramesEst * nBands);
  let maxE = 0;
  stft(
    x,
    nfft,
    hop,
    (f, pow) => {
      const base = f * nBands;
      for (let b = 0; b < nBands; b++) {
        let s = 0;
        for (let k = lo[b] as number; k < (hi[b] as number); k++) s += pow[k] as number;
        // Mean power per bin so wide high bands do not dominate narrow low ones.
        const e = s / ((hi[b] as number) - (lo[b] as number));
        bands[base + b] = e;
        if (e > maxE) maxE = e;
      }
    },
    signal,
    true,
  );
  const nFrames = nFramesEst;
  const scale = maxE > 0 ? LOG_GAIN / maxE : 0;
  for (let i = 0; i < bands.length; i++) bands[i] = Math.log1p((bands[i] as number) * scale);

  let nLow = 0;
  while (nLow < nBands && (bandHz[nLow] as number) < LOW_BAND_HZ) nLow++;
  const onset = new Float32Array(nFrames);
  const lowOnset = new Float32Array(nFrames);
  for (let f = 1; f < nFrames; f++) {
    let s = 0;
    let sl = 0;
    const cur = f * nBands;
    const prev = cur - nBands;
    for (let b = 0; b < nBands; b++) {
      const d = (bands[cur + b] as number) - (bands[prev + b] as number);
      if (d > 0) {
        s += d;
        if (b < nLow) sl += d;
      }
    }
    onset[f] = s / nBands;
    lowOnset[f] = nLow > 0 ? sl / nLow : 0;
  }
  const frameRate = sr / hop;
  removeLocalMean(onset, Math.round(frameRate));
  removeLocalMean(lowOnset, Math.round(frameRate));

  // Frame RMS over the same centred window, from a running sum of squares (O(n)).
  const cum = new Float64Array(x.length + 1);
  for (let i = 0; i < x.length; i++) cum[i + 1] = (cum[i] as number) + (x[i] as number) * (x[i] as number);
  const rms = new Float32Array(nFrames);
  for (let f = 0; f < nFrames; f++) {
    const a = Math.max(0, f * hop - nfft / 2);
    const e = Math.min(x.length, f * hop + nfft / 2);
    rms[f] = e > a ? Math.sqrt(Math.max(0, (cum[e] as number) - (cum[a] as number)) / (e - a)) : 0;
  }
  return { frameRate, nFrames, nBands, bandHz, bands, onset, lowOnset, rms };
}

/**
 * Subtract a centred moving average (window `w` frames): the high-pass that keeps
 * the pulse and drops slow loudness changes (crescendos would otherwise bias the ACF).
 */
export function removeLocalMean(v: Float32Array, w: number): void {
  const n = v.length;
  if (n === 0 || w < 2) return;
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = (prefix[i] as number) + (v[i] as number);
  const h = Math.floor(w / 2);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const a = Math.max(0, i - h);
    const b = Math.min(n, i + h + 1);
    out[i] = (v[i] as number) - ((prefix[b] as number) - (prefix[a] as number)) / (b - a);
  }
  v.set(out);
}
