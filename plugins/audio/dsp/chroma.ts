/**
 * Chromagram: spectral energy folded onto the 12 pitch classes (C = 0 … B = 11).
 * A long window (4096 at 22.05 kHz, 5.4 Hz resolution) separates semitones down to
 * ~100 Hz; bins are weighted by how close they lie to a semitone centre so energy
 * between semitones (noise, percussion) contributes little.
 */
import { stft } from "./stft.ts";

export interface Chromagram {
  frameRate: number;
  nFrames: number;
  /** Frame-major: chroma[f * 12 + pc], unnormalised magnitudes. */
  chroma: Float32Array;
  /**
   * The same below ~520 Hz (bass and chord voicings, under most melodies): chord
   * changes read more cleanly here because melody notes do not move it.
   */
  lowChroma: Float32Array;
}

const LOW_CHROMA_MAX_HZ = 520;

export function chromagram(x: Float32Array, sr: number, signal?: AbortSignal, fMin = 60, fMax = 2100): Chromagram {
  const nfft = sr > 30000 ? 8192 : sr > 15000 ? 4096 : 2048;
  const hop = nfft / 2;
  const nBins = nfft / 2 + 1;
  const pcOf = new Int8Array(nBins).fill(-1);
  const wOf = new Float32Array(nBins);
  for (let k = 1; k < nBins; k++) {
    const f = (k * sr) / nfft;
    if (f < fMin || f > fMax) continue;
    const midi = 69 + 12 * Math.log2(f / 440);
    const r = Math.round(midi);
    const w = 1 - 2 * Math.abs(midi - r);
    if (w <= 0) continue;
    pcOf[k] = ((r % 12) + 12) % 12;
    wOf[k] = w * w;
  }
  const nFrames = Math.floor(x.length / hop) + 1;
  const chroma = new Float32Array(nFrames * 12);
  const lowChroma = new Float32Array(nFrames * 12);
  const lowTop = Math.min(nBins, Math.floor((LOW_CHROMA_MAX_HZ * nfft) / sr) + 1);
  stft(
    x,
    nfft,
    hop,
    (f, mag) => {
      const base = f * 12;
      for (let k = 1; k < nBins; k++) {
        const pc = pcOf[k] as number;
        if (pc < 0) continue;
        const v = (mag[k] as number) * (wOf[k] as number);
        chroma[base + pc] = (chroma[base + pc] as number) + v;
        if (k < lowTop) lowChroma[base + pc] = (lowChroma[base + pc] as number) + v;
      }
    },
    signal,
  );
  return { frameRate: sr / hop, nFrames, chroma, lowChroma };
}
