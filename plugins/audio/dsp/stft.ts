/**
 * Short-time Fourier transform driver. Frames are centred (frame i is centred on sample
 * i*hop, zero-padded at the edges) so frame i belongs to time i*hop/sr, and each frame's
 * magnitude spectrum is handed to a visitor instead of being stored: callers reduce it to
 * bands or chroma on the fly, so memory stays proportional to the reduced features.
 */
import FFT from "fft.js";

export interface StftPlan {
  nfft: number;
  hop: number;
  /** Number of centred frames: floor(len / hop) + 1. */
  nFrames: number;
  /** Number of magnitude bins: nfft / 2 + 1. */
  nBins: number;
}

export function planStft(length: number, nfft: number, hop: number): StftPlan {
  return { nfft, hop, nFrames: Math.floor(length / hop) + 1, nBins: nfft / 2 + 1 };
}

/** A periodic Hann window (the STFT standard; sums to a constant under 50 % / 75 % overlap). */
export function hann(n: number): Float32Array {
  const w = new Float32Array(n);
  for (let i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n);
  return w;
}

/**
 * Run the STFT over `x`, calling `visit(frame, mag)` for each frame with the magnitude
 * spectrum (a reused buffer of nBins values; copy it to keep it). Checks `signal` every
 * 256 frames so a cancelled job stops promptly.
 */
export function stft(
  x: Float32Array,
  nfft: number,
  hop: number,
  visit: (frame: number, mag: Float32Array) => void,
  signal?: AbortSignal,
  /** Hand over power (|X|²) instead of magnitude: saves a square root per bin. */
  power = false,
): StftPlan {
  const plan = planStft(x.length, nfft, hop);
  const fft = new FFT(nfft);
  const win = hann(nfft);
  // Plain arrays: fft.js is tuned for them (typed arrays measured ~1.5x slower).
  const input = new Array<number>(nfft).fill(0);
  const out = fft.createComplexArray() as number[];
  const mag = new Float32Array(plan.nBins);
  const half = nfft / 2;
  for (let f = 0; f < plan.nFrames; f++) {
    if ((f & 255) === 0 && signal?.aborted) throw signal.reason ?? new Error("aborted");
    const start = f * hop - half;
    if (start >= 0 && start + nfft <= x.length) {
      for (let i = 0; i < nfft; i++) input[i] = (x[start + i] as number) * (win[i] as number);
    } else {
      for (let i = 0; i < nfft; i++) {
        const j = start + i;
        input[i] = j >= 0 && j < x.length ? (x[j] as number) * (win[i] as number) : 0;
      }
    }
    fft.realTransform(out, input);
    for (let k = 0; k < plan.nBins; k++) {
      const re = out[2 * k] as number;
      const im = out[2 * k + 1] as number;
      mag[k] = power ? re * re + im * im : Math.sqrt(re * re + im * im);
    }
    visit(f, mag);
  }
  return plan;
}
