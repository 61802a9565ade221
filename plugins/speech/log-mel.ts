/**
 * Whisper's log-mel spectrogram, the same numbers as transformers.js' WhisperFeatureExtractor
 * (n_fft 400, hop 160, periodic Hann, centre reflect padding, power spectrum, the model's own
 * mel filter bank, log10, clamp at max - 8, (x + 4) / 4), computed several times faster.
 *
 * Why our own: transformers.js runs a 400-point FFT through Bluestein's algorithm (two
 * 1024-point FFTs per frame) and a dense 80x201 matrix product per frame: ~0.6-0.9 s per 30 s
 * window on this machine, i.e. 12-19 s of pure overhead for 10 minutes of audio. Here the
 * 400-point real FFT is one 200-point complex FFT (Stockham, radices 4*2*5*5: no padding,
 * exact bins) plus the real-input split step, mel filters applied
 * sparsely (each filter spans a few bins), and frames that lie entirely in the zero padding of
 * a short window skipped (their spectrum is exactly zero). A unit test pins the output to
 * transformers.js' within float rounding.
 */
export interface MelConfig {
  nFft: number;
  hop: number;
  /** Samples per window (480000 = 30 s at 16 kHz): input is zero-padded or cut to it. */
  nSamples: number;
  /** Frames output (3000). */
  nFrames: number;
  /** [mel][bin] weights (feature_extractor.config.mel_filters). */
  filters: readonly (readonly number[])[];
}

function factorize(n: number): number[] {
  const out: number[] = [];
  for (const p of [4, 2, 3, 5]) {
    while (n % p === 0) {
      out.push(p);
      n /= p;
    }
  }
  for (let p = 7; n > 1; p += 2) {
    while (n % p === 0) {
      out.push(p);
      n /= p;
    }
  }
  return out;
}

const C1 = Math.cos((2 * Math.PI) / 5),
  C2 = Math.cos((4 * Math.PI) / 5);
const S1 = Math.sin((2 * Math.PI) / 5),
  S2 = Math.sin((4 * Math.PI) / 5);

/** y[o] = (br + i bi) * (c + i d) */
function twiddle(yr: Float64Array, yi: Float64Array, o: number, br: number, bi: number, c: number, d: number): void {
  yr[o] = br * c - bi * d;
  yi[o] = br * d + bi * c;
}

interface Stage {
  r: number;
  m: number;
  s: number;
  /** exp(-2πi p v / n) for p < m, v < r, at [p * r + v]. */
  twRe: Float64Array;
  twIm: Float64Array;
}

/**
 * A complex FFT of one fixed size: Stockham autosort, decimation in frequency, radix 4, 2 and
 * generic odd radices (5 for Whisper), with each stage's twiddles precomputed.
 */
export class MixedRadixFft {
  private readonly stages: Stage[] = [];
  private readonly bufRe: Float64Array;
  private readonly bufIm: Float64Array;
  /** Roots of unity for the generic butterfly, per radix: [u * r + v] = exp(-2πi uv / r). */
  private readonly roots = new Map<number, { re: Float64Array; im: Float64Array }>();

  constructor(readonly n: number) {
    this.bufRe = new Float64Array(n);
    this.bufIm = new Float64Array(n);
    let len = n;
    let s = 1;
    for (const r of factorize(n)) {
      const m = len / r;
      const twRe = new Float64Array(m * r),
        twIm = new Float64Array(m * r);
      for (let p = 0; p < m; p++) {
        for (let v = 0; v < r; v++) {
          twRe[p * r + v] = Math.cos((2 * Math.PI * p * v) / len);
          twIm[p * r + v] = -Math.sin((2 * Math.PI * p * v) / len);
        }
      }
      this.stages.push({ r, m, s, twRe, twIm });
      if (r !== 2 && r !== 4 && r !== 5 && !this.roots.has(r)) {
        const re = new Float64Array(r * r),
          im = new Float64Array(r * r);
        for (let u = 0; u < r; u++)
          for (let v = 0; v < r; v++) {
            re[u * r + v] = Math.cos((2 * Math.PI * ((u * v) % r)) / r);
            im[u * r + v] = -Math.sin((2 * Math.PI * ((u * v) % r)) / r);
          }
        this.roots.set(r, { re, im });
      }
      len = m;
      s *= r;
    }
  }

  /** In place: re/im hold the input and receive the spectrum. */
  transform(re: Float64Array, im: Float64Array): void {
    let xr = re,
      xi = im,
      yr = this.bufRe,
      yi = this.bufIm;
    const ar = new Float64Array(8),
      ai = new Float64Array(8);
    for (const { r, m, s, twRe, twIm } of this.stages) {
      for (let p = 0; p < m; p++) {
        const tb = p * r;
        for (let q = 0; q < s; q++) {
          const i0 = q + s * p,
            step = s * m,
            o0 = q + s * r * p;
          if (r === 4) {
            const a0r = xr[i0]!,
              a0i = xi[i0]!,
              a1r = xr[i0 + step]!,
              a1i = xi[i0 + step]!;
            const a2r = xr[i0 + 2 * step]!,
              a2i = xi[i0 + 2 * step]!,
              a3r = xr[i0 + 3 * step]!,
              a3i = xi[i0 + 3 * step]!;
            const t0r = a0r + a2r,
              t0i = a0i + a2i,
              t1r = a0r - a2r,
              t1i = a0i - a2i;
            const t2r = a1r + a3r,
              t2i = a1i + a3i,
              t3r = a1r - a3r,
              t3i = a1i - a3i;
            // y1 = t1 - i t3, y3 = t1 + i t3 (forward transform)
            yr[o0] = t0r + t2r;
            yi[o0] = t0i + t2i;
            let br = t1r + t3i,
              bi = t1i - t3r,
              c = twRe[tb + 1]!,
              d = twIm[tb + 1]!;
            yr[o0 + s] = br * c - bi * d;
            yi[o0 + s] = br * d + bi * c;
            br = t0r - t2r;
            bi = t0i - t2i;
            c = twRe[tb + 2]!;
            d = twIm[tb + 2]!;
            yr[o0 + 2 * s] = br * c - bi * d;
            yi[o0 + 2 * s] = br * d + bi * c;
            br = t1r - t3i;
            bi = t1i + t3r;
            c = twRe[tb + 3]!;
            d = twIm[tb + 3]!;
            yr[o0 + 3 * s] = br * c - bi * d;
            yi[o0 + 3 * s] = br * d + bi * c;
          } else if (r === 2) {
            const a0r = xr[i0]!,
              a0i = xi[i0]!,
              a1r = xr[i0 + step]!,
              a1i = xi[i0 + step]!;
            yr[o0] = a0r + a1r;
            yi[o0] = a0i + a1i;
            const br = a0r - a1r,
              bi = a0i - a1i,
              c = twRe[tb + 1]!,
              d = twIm[tb + 1]!;
            yr[o0 + s] = br * c - bi * d;
            yi[o0 + s] = br * d + bi * c;
          } else if (r === 5) {
            // Radix 5 with the usual symmetric split: 2 cosines and 2 sines instead of 25 MACs.
            const a0r = xr[i0]!,
              a0i = xi[i0]!;
            const a1r = xr[i0 + step]!,
              a1i = xi[i0 + step]!,
              a2r = xr[i0 + 2 * step]!,
              a2i = xi[i0 + 2 * step]!;
            const a3r = xr[i0 + 3 * step]!,
              a3i = xi[i0 + 3 * step]!,
              a4r = xr[i0 + 4 * step]!,
              a4i = xi[i0 + 4 * step]!;
            const t1r = a1r + a4r,
              t1i = a1i + a4i,
              t2r = a2r + a3r,
              t2i = a2i + a3i;
            const t3r = a1r - a4r,
              t3i = a1i - a4i,
              t4r = a2r - a3r,
              t4i = a2i - a3i;
            const b1r = a0r + C1 * t1r + C2 * t2r,
              b1i = a0i + C1 * t1i + C2 * t2i;
            const b2r = a0r + C2 * t1r + C1 * t2r,
              b2i = a0i + C2 * t1i + C1 * t2i;
            const d1r = S1 * t3r + S2 * t4r,
              d1i = S1 * t3i + S2 * t4i;
            const d2r = S2 * t3r - S1 * t4r,
              d2i = S2 * t3i - S1 * t4i;
            yr[o0] = a0r + t1r + t2r;
            yi[o0] = a0i + t1i + t2i;
            // y1 = b1 - i d1, y2 = b2 - i d2, y3 = b2 + i d2, y4 = b1 + i d1; then the twiddles
            twiddle(yr, yi, o0 + s, b1r + d1i, b1i - d1r, twRe[tb + 1]!, twIm[tb + 1]!);
            twiddle(yr, yi, o0 + 2 * s, b2r + d2i, b2i - d2r, twRe[tb + 2]!, twIm[tb + 2]!);
            twiddle(yr, yi, o0 + 3 * s, b2r - d2i, b2i + d2r, twRe[tb + 3]!, twIm[tb + 3]!);
            twiddle(yr, yi, o0 + 4 * s, b1r - d1i, b1i + d1r, twRe[tb + 4]!, twIm[tb + 4]!);
          } else {
            const rt = this.roots.get(r)!;
            for (let u = 0; u < r; u++) {
              ar[u] = xr[i0 + u * step]!;
              ai[u] = xi[i0 + u * step]!;
            }
            for (let v = 0; v < r; v++) {
              let sr = 0,
                si = 0;
              for (let u = 0; u < r; u++) {
                const c = rt.re[u * r + v]!,
                  d = rt.im[u * r + v]!;
                sr += ar[u]! * c - ai[u]! * d;
                si += ar[u]! * d + ai[u]! * c;
              }
              const c = twRe[tb + v]!,
                d = twIm[tb + v]!;
              yr[o0 + s * v] = sr * c - si * d;
              yi[o0 + s * v] = sr * d + si * c;
            }
          }
        }
      }
      [xr, yr] = [yr, xr];
      [xi, yi] = [yi, xi];
    }
    if (xr !== re) {
      re.set(xr);
      im.set(xi);
    }
  }
}

/**
 * Power spectrum of a real frame of even length N through one complex FFT of N/2 (even
 * samples as real parts, odd as imaginary, then the split step).
 */
export class RealPowerSpectrum {
  private readonly half: MixedRadixFft;
  private readonly zr: Float64Array;
  private readonly zi: Float64Array;
  private readonly wr: Float64Array;
  private readonly wi: Float64Array;

  constructor(readonly n: number) {
    const h = n / 2;
    this.half = new MixedRadixFft(h);
    this.zr = new Float64Array(h);
    this.zi = new Float64Array(h);
    this.wr = new Float64Array(h + 1);
    this.wi = new Float64Array(h + 1);
    for (let k = 0; k <= h; k++) {
      this.wr[k] = Math.cos((2 * Math.PI * k) / n);
      this.wi[k] = -Math.sin((2 * Math.PI * k) / n);
    }
  }

  /** power[k] = |X[k]|^2 for k = 0..N/2. */
  compute(frame: Float64Array, power: Float64Array): void {
    const h = this.n / 2;
    for (let k = 0; k < h; k++) {
      this.zr[k] = frame[2 * k]!;
      this.zi[k] = frame[2 * k + 1]!;
    }
    this.half.transform(this.zr, this.zi);
    for (let k = 0; k <= h; k++) {
      const a = k % h,
        b = (h - k) % h;
      // E = (Z[k] + conj Z[h-k]) / 2, O = (Z[k] - conj Z[h-k]) / 2i, X = E + W^k O
      const er = (this.zr[a]! + this.zr[b]!) / 2,
        ei = (this.zi[a]! - this.zi[b]!) / 2;
      const or = (this.zi[a]! + this.zi[b]!) / 2,
        oi = -(this.zr[a]! - this.zr[b]!) / 2;
      const c = this.wr[k]!,
        d = this.wi[k]!;
      const xr = er + or * c - oi * d,
        xi = ei + or * d + oi * c;
      power[k] = xr * xr + xi * xi;
    }
  }
}

interface SparseFilter {
  from: number;
  weights: Float64Array;
}

export class WhisperLogMel {
  private readonly spectrum: RealPowerSpectrum;
  private readonly window: Float64Array;
  private readonly sparse: SparseFilter[];
  private readonly frame: Float64Array;
  private readonly power: Float64Array;

  constructor(private readonly cfg: MelConfig) {
    const N = cfg.nFft;
    this.spectrum = new RealPowerSpectrum(N);
    this.window = new Float64Array(N);
    for (let i = 0; i < N; i++) this.window[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / N);
    this.sparse = cfg.filters.map((row) => {
      let a = 0;
      while (a < row.length && row[a] === 0) a++;
      let b = row.length;
      while (b > a && row[b - 1] === 0) b--;
      return { from: a, weights: Float64Array.from(row.slice(a, b)) };
    });
    this.frame = new Float64Array(N);
    this.power = new Float64Array(Math.floor(N / 2) + 1);
  }

  get melBins(): number {
    return this.sparse.length;
  }

  /** Features [mel][frame] (row-major, melBins x nFrames) of up to nSamples of audio. */
  compute(audio: Float32Array): Float32Array {
    const { nFft: N, hop, nSamples, nFrames } = this.cfg;
    const pad = N / 2;
    const len = Math.min(audio.length, nSamples);
    // The window is zero-padded to nSamples, then reflect-padded by N/2 on both sides.
    const padded = new Float64Array(nSamples + 2 * pad);
    for (let i = 0; i < len; i++) padded[pad + i] = audio[i]!;
    for (let i = 0; i < pad; i++) {
      padded[pad - 1 - i] = padded[pad + 1 + i]!;
      padded[pad + nSamples + i] = padded[pad + nSamples - 2 - i]!;
    }
    const M = this.sparse.length;
    const out = new Float32Array(M * nFrames);
    // The last sample that is not padding (reflect padding at the start mirrors real audio).
    const lastReal = pad + len + pad;
    for (let f = 0; f < nFrames; f++) {
      const off = f * hop;
      if (off >= lastReal) {
        // Entirely inside zero padding: spectrum 0, mel = floor (written below as 1e-10).
        for (let m = 0; m < M; m++) out[m * nFrames + f] = 1e-10;
        continue;
      }
      for (let j = 0; j < N; j++) this.frame[j] = padded[off + j]! * this.window[j]!;
      this.spectrum.compute(this.frame, this.power);
      for (let m = 0; m < M; m++) {
        const flt = this.sparse[m]!;
        let acc = 0;
        for (let k = 0; k < flt.weights.length; k++) acc += flt.weights[k]! * this.power[flt.from + k]!;
        out[m * nFrames + f] = Math.max(1e-10, acc);
      }
    }
    let max = -Infinity;
    for (let i = 0; i < out.length; i++) {
      const v = Math.log10(out[i]!);
      out[i] = v;
      if (v > max) max = v;
    }
    const floor = max - 8;
    for (let i = 0; i < out.length; i++) out[i] = (Math.max(out[i]!, floor) + 4) / 4;
    return out;
  }
}
