/**
 * The evaluation set: song specs spread over 60-180 BPM, 4/4 and 3/4, straight and
 * swung, all 12 tonics in major and minor, one song with a tempo change. Sections per
 * song are scaled so songs last about 1-2 minutes. `shortSpecs` are the CI subset
 * (30-45 s each).
 */
import type { SectionType, SongSpec } from "./song.ts";
import { mulberry32 } from "./rng.ts";

function plan(barS: number, withBridge: boolean): { type: SectionType; bars: number }[] {
  const long = barS <= 2.2 ? 8 : 4;
  const edge = barS <= 1.6 ? 4 : 2;
  const s: { type: SectionType; bars: number }[] = [
    { type: "intro", bars: edge },
    { type: "verse", bars: long },
    { type: "chorus", bars: long },
    { type: "verse", bars: long },
    { type: "chorus", bars: long },
  ];
  if (withBridge) s.push({ type: "bridge", bars: Math.max(4, long / 2) }, { type: "chorus", bars: long });
  s.push({ type: "outro", bars: edge });
  return s;
}

export function evalSpecs(): SongSpec[] {
  const rng = mulberry32(20260525);
  const tempos = [60, 66, 72, 78, 84, 90, 96, 100, 105, 110, 115, 120, 124, 128, 132, 138, 144, 150, 160, 170, 180, 92, 126, 140];
  return tempos.map((bpm, i) => {
    const beatsPerBar: 3 | 4 = i % 5 === 3 ? 3 : 4;
    const barS = (60 / bpm) * beatsPerBar;
    const spec: SongSpec = {
      id: `song-${String(i + 1).padStart(2, "0")}`,
      seed: 1000 + i * 7919,
      bpm,
      beatsPerBar,
      swing: i % 4 === 1 ? 0.62 + 0.04 * rng() : 0.5,
      tonic: (i * 5) % 12,
      mode: i % 2 === 0 ? "major" : "minor",
      sections: plan(barS, i % 3 === 0),
    };
    if (i === 6) spec.tempoChange = { atBar: spec.sections.slice(0, 3).reduce((a, s) => a + s.bars, 0), bpm: 120 };
    return spec;
  });
}

/** The CI subset: four 30-45 s songs (4/4 and 3/4, major and minor, one swung). */
export function shortSpecs(): SongSpec[] {
  const mk = (id: string, seed: number, bpm: number, beatsPerBar: 3 | 4, swing: number, tonic: number, mode: "major" | "minor", bars: number): SongSpec => ({
    id,
    seed,
    bpm,
    beatsPerBar,
    swing,
    tonic,
    mode,
    sections: [
      { type: "intro", bars: 2 },
      { type: "verse", bars },
      { type: "chorus", bars },
      { type: "verse", bars },
      { type: "chorus", bars },
      { type: "outro", bars: 2 },
    ],
  });
  return [
    mk("short-a", 11, 120, 4, 0.5, 0, "major", 4),
    mk("short-b", 22, 96, 4, 0.5, 9, "minor", 4),
    mk("short-c", 33, 140, 4, 0.64, 7, "major", 4),
    mk("short-d", 44, 150, 3, 0.5, 2, "minor", 4),
  ];
}
