/**
 * Additive synthesis of the eval-set instruments, mixed into a mono Float32Array.
 * Simple on purpose but spectrally like the real thing: a pitch-swept kick, a noise +
 * tone snare, high-passed noise hats, a harmonic bass, soft-attack chord pads and a
 * plucked melody voice.
 */
import type { Rng } from "./rng.ts";

export const midiHz = (m: number) => 440 * 2 ** ((m - 69) / 12);

function span(out: Float32Array, sr: number, t0: number, dur: number): [number, number] {
  const a = Math.max(0, Math.round(t0 * sr));
  return [a, Math.min(out.length, a + Math.round(dur * sr))];
}

export function kick(out: Float32Array, sr: number, t0: number, amp: number): void {
  const [a, b] = span(out, sr, t0, 0.35);
  let ph = 0;
  for (let i = a; i < b; i++) {
    const t = (i - a) / sr;
    ph += (2 * Math.PI * (48 + 110 * Math.exp(-t / 0.035))) / sr;
    out[i] = (out[i] as number) + amp * Math.sin(ph) * Math.exp(-t / 0.13);
  }
}

export function snare(out: Float32Array, sr: number, rng: Rng, t0: number, amp: number): void {
  const [a, b] = span(out, sr, t0, 0.25);
  let prev = 0;
  for (let i = a; i < b; i++) {
    const t = (i - a) / sr;
    const n = rng() * 2 - 1;
    const hp = n - prev * 0.6;
    prev = n;
    out[i] = (out[i] as number) + amp * (0.55 * hp * Math.exp(-t / 0.07) + 0.5 * Math.sin(2 * Math.PI * 185 * t) * Math.exp(-t / 0.04));
  }
}

export function hat(out: Float32Array, sr: number, rng: Rng, t0: number, amp: number, open = false): void {
  const [a, b] = span(out, sr, t0, open ? 0.3 : 0.09);
  const tau = open ? 0.1 : 0.022;
  let prev = 0;
  for (let i = a; i < b; i++) {
    const t = (i - a) / sr;
    const n = rng() * 2 - 1;
    out[i] = (out[i] as number) + amp * 0.5 * (n - prev) * Math.exp(-t / tau);
    prev = n;
  }
}

/** A tone with the given harmonic amplitudes and an attack/decay/release envelope. */
export function tone(
  out: Float32Array,
  sr: number,
  t0: number,
  dur: number,
  midi: number,
  amp: number,
  harmonics: number[],
  attack: number,
  decayTau: number,
  release = 0.08,
): void {
  const f = midiHz(midi);
  const [a, b] = span(out, sr, t0, dur + release);
  const relStart = dur;
  const w = harmonics.map((_, k) => (2 * Math.PI * f * (k + 1)) / sr);
  for (let i = a; i < b; i++) {
    const t = (i - a) / sr;
    let env = t < attack ? t / attack : Math.exp(-(t - attack) / decayTau);
    if (t > relStart) env *= Math.max(0, 1 - (t - relStart) / release);
    let s = 0;
    for (let k = 0; k < harmonics.length; k++) {
      if ((k + 1) * f > sr / 2) break;
      s += (harmonics[k] as number) * Math.sin((w[k] as number) * (i - a));
    }
    out[i] = (out[i] as number) + amp * env * s;
  }
}

export const bassNote = (out: Float32Array, sr: number, t0: number, dur: number, midi: number, amp: number) =>
  tone(out, sr, t0, dur, midi, amp, [1, 0.5, 0.25, 0.12], 0.006, 0.6);

export const padChord = (out: Float32Array, sr: number, t0: number, dur: number, midis: number[], amp: number) => {
  for (const m of midis) tone(out, sr, t0, dur, m, amp / midis.length, [1, 0.35, 0.15, 0.08], 0.04, 4, 0.15);
};

export const leadNote = (out: Float32Array, sr: number, t0: number, dur: number, midi: number, amp: number) =>
  tone(out, sr, t0, dur, midi, amp, [1, 0.45, 0.2, 0.1], 0.008, 0.35, 0.05);
