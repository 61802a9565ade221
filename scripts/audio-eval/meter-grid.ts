/**
 * The meter label of an evaluation file checked against the MIDI's note grid (issue 12:
 * MMA's RockBallad groove carries "Timesig 4 4" and a 4/4 label in our specs, yet its
 * hi-hat plays three even notes on every beat, exactly like Rock128, labelled 12/8).
 * One rule, applied to every file of the real-instrument set, dev and held-out:
 *
 *  - where the onsets of the beat fall: for each beat of the file, whether some note
 *    starts within 1/24 of a beat of its third-points (1/3, 2/3) and of its half-point;
 *  - a beat grid is "triple" when both third-points hold onsets in at least half of the
 *    beats and the half-point in under a tenth of them (the beat is divided in three
 *    equal parts). A swung off-beat fills 2/3 alone and is not a triple grid;
 *  - a grid is "duple" when the half-point holds onsets in at least a tenth of the
 *    beats and neither third-point does (the beat is divided in two);
 *  - a simple label (4/4) on a triple grid becomes compound (12/8) when the beat is
 *    slow enough to be written as a dotted quarter: at most MAX_TWELVE_EIGHT_BPM, the
 *    notation convention the analyser reports by (subdivision.ts; faster triplet feels
 *    are written as a 4/4 shuffle). A 12/8 label on a duple grid becomes 4/4; a 6/8
 *    label on a duple grid would be 2/4, outside the set's labels, so the build stops
 *    there. A 3/4 label on a triple grid (9/8) is kept, and grids with both divisions
 *    (bluegrass fills) or neither keep the documented label.
 *
 * On the dev set this changes the three RockBallad renders (4/4 → 12/8, triple grid at
 * 62-78 BPM) and nothing else: the 12/8 songs are triple grids, the 6/8 songs (swung
 * eighths on 2/3 only) and the shuffles (2/3 only) are neither, no compound song has
 * half-beat onsets. Bluegrass fills hit 1/3, 1/2 and 2/3 alike: mixed, label kept.
 */
import type { MidiFile } from "./midi.ts";
import { MAX_TWELVE_EIGHT_BPM } from "../../plugins/audio/dsp/subdivision.ts";
import type { Meter } from "./real-specs.ts";

export interface BeatGrid {
  beats: number;
  /** Share of beats with an onset at 1/3, 1/2 and 2/3 of the beat. */
  third: number;
  half: number;
  twoThirds: number;
}

const TOL = 1 / 24;
const FILLED = 0.5;
const EMPTY = 0.1;

/** Share of beats holding an onset at each division point, beats counted from `originTicks`. */
export function beatGrid(m: Pick<MidiFile, "notes">, beatTicks: number, originTicks = 0): BeatGrid {
  const at: Record<"third" | "half" | "twoThirds", Set<number>> = { third: new Set(), half: new Set(), twoThirds: new Set() };
  let first = Infinity;
  let last = -Infinity;
  for (const n of m.notes) {
    const x = (n.tick - originTicks) / beatTicks;
    const beat = Math.floor(x);
    const frac = x - beat;
    first = Math.min(first, beat);
    last = Math.max(last, beat);
    if (Math.abs(frac - 1 / 3) < TOL) at.third.add(beat);
    if (Math.abs(frac - 1 / 2) < TOL) at.half.add(beat);
    if (Math.abs(frac - 2 / 3) < TOL) at.twoThirds.add(beat);
  }
  const beats = Number.isFinite(first) ? last - first + 1 : 0;
  const share = (s: Set<number>) => (beats > 0 ? s.size / beats : 0);
  return { beats, third: share(at.third), half: share(at.half), twoThirds: share(at.twoThirds) };
}

export type GridKind = "triple" | "duple" | "mixed";

export function gridKind(g: BeatGrid): GridKind {
  if (g.third >= FILLED && g.twoThirds >= FILLED && g.half < EMPTY) return "triple";
  if (g.half >= EMPTY && g.third < EMPTY && g.twoThirds < EMPTY) return "duple";
  return "mixed";
}

/**
 * The label the grid supports: `label` unless the grid contradicts it (header rules).
 * `bpm` is the beat's tempo (the dotted quarter in compound labels).
 */
export function notatedMeter(label: Meter, g: BeatGrid, bpm: number): Meter {
  const kind = gridKind(g);
  if (label === "4/4" && kind === "triple" && bpm <= MAX_TWELVE_EIGHT_BPM) return "12/8";
  if (label === "12/8" && kind === "duple") return "4/4";
  if (label === "6/8" && kind === "duple") throw new Error("a 6/8 label on a duple grid (2/4) is outside the set's labels");
  return label;
}
