/**
 * Percussive/harmonic separation on the log-band spectrogram (after Fitzgerald 2010,
 * median filtering): sustained partials are smooth along time, drum hits are smooth
 * along frequency. A band's percussive share is P² / (P² + H²) with H the median over
 * ±4 frames (±46 ms) of that band and P the median over ±2 neighbouring bands of that
 * frame. Onset envelopes of the percussive part, split into low (kick), mid (snare body,
 * toms) and high (snare rattle, hi-hats, cymbals) registers, show the drum pattern
 * without the strums and chord attacks that blur the metrical level.
 * Works on the 36 log bands (not FFT bins): ~20x less work than bin-level HPSS.
 */
import { removeLocalMean, type FrameFeatures } from "./features.ts";

export interface PercussiveOnsets {
  /** Percussive onset strength below 200 Hz (kick drum), local mean removed. */
  low: Float32Array;
  /**
   * Below 80 Hz only: the kick's fundamental without the toms and the low snare body
   * that the 200 Hz register also takes in (the bar-template phase check, bar-template.ts).
   */
  sub: Float32Array;
  /** 200 Hz - 2.5 kHz (snare body, toms, rim). */
  mid: Float32Array;
  /** Above 2.5 kHz (hi-hats, cymbals, snare wires). */
  high: Float32Array;
}

const T_HALF = 4;
/** Upper edge of the kick-fundamental register. */
const SUB_HZ = 80;
const F_HALF = 2;

function median(buf: Float64Array, n: number): number {
  // Insertion sort of at most 9 values: cheaper than a general sort here.
  for (let i = 1; i < n; i++) {
    const v = buf[i] as number;
    let j = i - 1;
    while (j >= 0 && (buf[j] as number) > v) {
      buf[j + 1] = buf[j] as number;
      j--;
    }
    buf[j + 1] = v;
  }
  return buf[n >> 1] as number;
}

export function percussiveOnsets(f: FrameFeatures): PercussiveOnsets {
  const { nFrames, nBands, bands, bandHz } = f;
  const perc = new Float32Array(nFrames * nBands);
  const buf = new Float64Array(2 * T_HALF + 1);
  for (let b = 0; b < nBands; b++) {
    for (let t = 0; t < nFrames; t++) {
      let n = 0;
      for (let k = Math.max(0, t - T_HALF); k <= Math.min(nFrames - 1, t + T_HALF); k++) buf[n++] = bands[k * nBands + b] as number;
      const h = median(buf, n);
      n = 0;
      const base = t * nBands;
      for (let k = Math.max(0, b - F_HALF); k <= Math.min(nBands - 1, b + F_HALF); k++) buf[n++] = bands[base + k] as number;
      const p = median(buf, n);
      const e = bands[base + b] as number;
      perc[base + b] = p * p + h * h > 1e-12 ? (e * p * p) / (p * p + h * h) : 0;
    }
  }
  const low = new Float32Array(nFrames);
  const mid = new Float32Array(nFrames);
  const high = new Float32Array(nFrames);
  const sub = new Float32Array(nFrames);
  const isSub = new Uint8Array(nBands);
  let nSub = 0;
  const reg = new Int8Array(nBands);
  const count = [0, 0, 0];
  for (let b = 0; b < nBands; b++) {
    const hz = bandHz[b] as number;
    reg[b] = hz < 200 ? 0 : hz < 2500 ? 1 : 2;
    count[reg[b] as number]!++;
    if (hz < SUB_HZ) {
      isSub[b] = 1;
      nSub++;
    }
  }
  for (let t = 1; t < nFrames; t++) {
    const s = [0, 0, 0];
    let sk = 0;
    for (let b = 0; b < nBands; b++) {
      const d = (perc[t * nBands + b] as number) - (perc[(t - 1) * nBands + b] as number);
      if (d > 0) {
        s[reg[b] as number]! += d;
        if (isSub[b]) sk += d;
      }
    }
    sub[t] = sk / Math.max(1, nSub);
    low[t] = (s[0] as number) / Math.max(1, count[0] as number);
    mid[t] = (s[1] as number) / Math.max(1, count[1] as number);
    high[t] = (s[2] as number) / Math.max(1, count[2] as number);
  }
  const w = Math.round(f.frameRate);
  removeLocalMean(low, w);
  removeLocalMean(mid, w);
  removeLocalMean(high, w);
  removeLocalMean(sub, w);
  return { low, mid, high, sub };
}

/** A register's RMS, the unit the phase checks read it in (1 for a silent register, so nothing divides by 0). */
export function registerRms(v: Float32Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += (v[i] as number) * (v[i] as number);
  return Math.sqrt(s / Math.max(1, v.length)) || 1;
}
