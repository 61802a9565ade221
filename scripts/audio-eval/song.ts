/**
 * A labelled synthetic song: a section plan (intro / verse / chorus / bridge / outro)
 * rendered bar by bar with drums, bass, chord pads and a melody whose chords follow the
 * key, plus the ground truth the generator knows exactly: beats, downbeats, tempo, key
 * and section boundaries. Choruses are louder and denser than verses; repeated sections
 * repeat the same chords and melody.
 */
import { mulberry32 } from "./rng.ts";
import { bassNote, hat, kick, leadNote, padChord, snare } from "./instruments.ts";

export type SectionType = "intro" | "verse" | "chorus" | "bridge" | "outro";

export interface SongSpec {
  id: string;
  seed: number;
  bpm: number;
  /** Optional step tempo change: from bar `atBar` (0-based) the tempo is `bpm`. */
  tempoChange?: { atBar: number; bpm: number };
  beatsPerBar: 3 | 4;
  /** Off-beat eighth position as a fraction of the beat: 0.5 straight, 0.6-0.67 swung. */
  swing: number;
  /** Tonic pitch class 0 = C … 11 = B. */
  tonic: number;
  mode: "major" | "minor";
  sections: { type: SectionType; bars: number }[];
}

export interface GroundTruth {
  id: string;
  /** 60 / median inter-beat interval. */
  bpm: number;
  beats: number[];
  downbeats: number[];
  key: string;
  time_signature: "4/4" | "3/4";
  sections: { start: number; end: number; type: SectionType }[];
  /** Section starts except the first (the boundaries an analyser should find). */
  boundaries: number[];
  duration: number;
}

const NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"];
const MAJOR = [0, 2, 4, 5, 7, 9, 11];
const MINOR = [0, 2, 3, 5, 7, 8, 10];
/** Chord roots as scale degrees (0-based), one chord per bar, per section type. */
const PROGRESSIONS: Record<"major" | "minor", Record<SectionType, number[]>> = {
  major: { intro: [0, 3], verse: [0, 5, 3, 4], chorus: [0, 4, 5, 3], bridge: [5, 3, 1, 4], outro: [3, 0] },
  minor: { intro: [0, 5], verse: [0, 5, 2, 6], chorus: [0, 3, 4, 0], bridge: [5, 6, 3, 4], outro: [5, 0] },
};
const LEAD_S = 0.3;

/** Scale note for degree d (any integer) as a MIDI number above `base`. */
function degreeMidi(spec: SongSpec, base: number, d: number, raiseLeading: boolean): number {
  const scale = spec.mode === "major" ? MAJOR : MINOR;
  const oct = Math.floor(d / 7);
  const idx = ((d % 7) + 7) % 7;
  let semi = scale[idx] as number;
  if (raiseLeading && spec.mode === "minor" && idx === 6) semi = 11;
  return base + spec.tonic + 12 * oct + semi;
}

function triad(spec: SongSpec, base: number, root: number): number[] {
  // Minor-key dominant (degree 4) gets the raised leading tone: harmonic minor, as in practice.
  const raise = root === 4;
  return [0, 2, 4].map((k) => degreeMidi(spec, base, root + k, raise));
}

export function renderSong(spec: SongSpec, sr: number): { audio: Float32Array; truth: GroundTruth } {
  const rng = mulberry32(spec.seed);
  const noiseRng = mulberry32(spec.seed ^ 0x9e3779b9);
  // Timeline: bar start times and beat period of each bar.
  const bars: { t: number; beat: number; section: number; inSection: number }[] = [];
  let t = LEAD_S;
  let barIdx = 0;
  spec.sections.forEach((s, si) => {
    for (let k = 0; k < s.bars; k++) {
      const bpm = spec.tempoChange && barIdx >= spec.tempoChange.atBar ? spec.tempoChange.bpm : spec.bpm;
      const beat = 60 / bpm;
      bars.push({ t, beat, section: si, inSection: k });
      t += beat * spec.beatsPerBar;
      barIdx++;
    }
  });
  const end = t;
  const duration = end + 1.5;
  const audio = new Float32Array(Math.ceil(duration * sr));
  // Per section type: a melody motif (degree, start in beats, length in beats) reused on repeats.
  const motifs = new Map<SectionType, { d: number; at: number; len: number }[]>();
  const motifFor = (type: SectionType) => {
    let m = motifs.get(type);
    if (!m) {
      m = [];
      const nb = spec.beatsPerBar * 2;
      let at = 0;
      let d = Math.floor(rng() * 5);
      while (at < nb) {
        const len = rng() < 0.5 ? 0.5 : 1;
        if (rng() > 0.2) m.push({ d, at, len });
        d = Math.max(-2, Math.min(9, d + Math.floor(rng() * 5) - 2));
        at += len;
      }
      motifs.set(type, m);
    }
    return m;
  };

  for (const bar of bars) {
    const sec = spec.sections[bar.section]!;
    const type = sec.type;
    const prog = PROGRESSIONS[spec.mode][type];
    const root = prog[bar.inSection % prog.length] as number;
    const B = spec.beatsPerBar;
    const beat = bar.beat;
    const barDur = beat * B;
    const loud = type === "chorus" ? 1 : type === "verse" ? 0.65 : type === "bridge" ? 0.75 : 0.45;
    const fadeOut = type === "outro" ? 1 - bar.inSection / Math.max(1, sec.bars) : 1;
    const g = loud * fadeOut;
    const off = (i: number) => bar.t + i * beat;
    // Chord pad: the whole bar.
    padChord(audio, sr, bar.t, barDur * 0.98, triad(spec, 48, root), 0.32 * g + 0.05);
    // Drums.
    const drums = type !== "intro";
    if (drums) {
      for (let i = 0; i < B; i++) {
        const bt = off(i);
        const swung = bt + beat * spec.swing;
        if (B === 4) {
          if (i === 0 || i === 2 || (type === "chorus" && i === 3 && bar.inSection % 2 === 1)) kick(audio, sr, bt, 0.75 * g + 0.1);
          if (type !== "outro" && (i === 1 || i === 3)) snare(audio, sr, noiseRng, bt, 0.45 * g);
        } else {
          if (i === 0) kick(audio, sr, bt, 0.8 * g + 0.1);
          if (type !== "outro" && i > 0) snare(audio, sr, noiseRng, bt, 0.28 * g);
        }
        if (type !== "outro") {
          hat(audio, sr, noiseRng, bt, 0.22 * g);
          hat(audio, sr, noiseRng, swung, (type === "chorus" ? 0.2 : 0.12) * g);
        }
      }
    }
    // Bass: roots; half notes in verses, eighths in choruses and bridge.
    const bassRoot = degreeMidi(spec, 36, root, false);
    if (type === "intro" || type === "outro") bassNote(audio, sr, bar.t, barDur * 0.9, bassRoot, 0.3 * g);
    else if (type === "verse") for (let i = 0; i < B; i += 2) bassNote(audio, sr, off(i), beat * Math.min(2, B - i) * 0.9, bassRoot, 0.35 * g);
    else
      for (let i = 0; i < B; i++) {
        bassNote(audio, sr, off(i), beat * 0.45, bassRoot, 0.35 * g);
        bassNote(audio, sr, off(i) + beat * spec.swing, beat * 0.4, bassRoot + (i % 2 ? 12 : 0), 0.25 * g);
      }
    // Melody over two-bar motifs, not in the intro.
    if (type !== "intro") {
      const motif = motifFor(type);
      const half = bar.inSection % 2;
      for (const n of motif) {
        const at = n.at - half * B;
        if (at < 0 || at >= B) continue;
        const ib = Math.floor(at);
        const frac = at - ib;
        const ts = off(ib) + (frac > 0 ? beat * spec.swing : 0);
        leadNote(audio, sr, ts, n.len * beat * 0.9, degreeMidi(spec, 72, n.d, root === 4), (type === "chorus" ? 0.22 : 0.14) * fadeOut);
      }
    }
  }
  // Normalise to -1 dBFS peak: uploads are mastered, and the mp3 encoder must not clip.
  let peak = 0;
  for (const v of audio) peak = Math.max(peak, Math.abs(v));
  if (peak > 0) for (let i = 0; i < audio.length; i++) audio[i] = ((audio[i] as number) / peak) * 0.89;

  const beats: number[] = [];
  const downbeats: number[] = [];
  for (const bar of bars) {
    downbeats.push(r3(bar.t));
    for (let i = 0; i < spec.beatsPerBar; i++) beats.push(r3(bar.t + i * bar.beat));
  }
  const ibis = beats
    .slice(1)
    .map((b, i) => b - (beats[i] as number))
    .sort((a, b) => a - b);
  const sections: GroundTruth["sections"] = [];
  bars.forEach((bar, i) => {
    const next = bars[i + 1];
    if (bar.inSection === 0) sections.push({ start: r3(bar.t), end: 0, type: spec.sections[bar.section]!.type });
    const cur = sections[sections.length - 1]!;
    cur.end = r3(next ? next.t : end);
  });
  return {
    audio,
    truth: {
      id: spec.id,
      bpm: Math.round(600 / (ibis[Math.floor(ibis.length / 2)] as number)) / 10,
      beats,
      downbeats,
      key: `${NAMES[spec.tonic]} ${spec.mode}`,
      time_signature: spec.beatsPerBar === 3 ? "3/4" : "4/4",
      sections,
      boundaries: sections.slice(1).map((s) => s.start),
      duration: r3(duration),
    },
  };
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;
