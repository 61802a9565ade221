/**
 * Energy curve for editing decisions (how hard to cut, where the song lifts): RMS over
 * fixed windows, in dB, mapped to 0..1 over the 40 dB below the loudest window.
 */

export interface EnergyCurve {
  /** Seconds between values (window length). */
  hop_s: number;
  /** 0..1 per window; 0 = 40 dB or more below the loudest window (or silence). */
  values: number[];
}

const RANGE_DB = 40;

export function energyCurve(x: Float32Array, sr: number, hopS = 0.25): EnergyCurve {
  const w = Math.max(1, Math.round(hopS * sr));
  const n = Math.ceil(x.length / w);
  const db = new Float64Array(n);
  let maxDb = -Infinity;
  for (let i = 0; i < n; i++) {
    let s = 0;
    const a = i * w;
    const b = Math.min(x.length, a + w);
    for (let j = a; j < b; j++) s += (x[j] as number) * (x[j] as number);
    const rms = Math.sqrt(s / Math.max(1, b - a));
    db[i] = rms > 1e-7 ? 20 * Math.log10(rms) : -140;
    if (db[i]! > maxDb) maxDb = db[i]!;
  }
  // Absolute floor: a track whose loudest window is below -80 dBFS is silence.
  const silent = !(maxDb > -80);
  const values = Array.from(db, (d) => (silent ? 0 : Math.round(Math.max(0, Math.min(1, (d - (maxDb - RANGE_DB)) / RANGE_DB)) * 1000) / 1000));
  return { hop_s: hopS, values };
}
