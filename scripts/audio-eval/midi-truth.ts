/**
 * Ground truth of a MIDI file as it is played: beat and downbeat times from the tempo
 * map on the notated beat grid, the tempo as 60 / median inter-beat interval (as for the
 * synthetic set), and the duration of the music. Beats are listed from the beat where the
 * music starts to the last note onset, and only up to `maxSeconds` (the rendered excerpt).
 *
 * Pickup bars (issue 12, item 4), one rule for every file:
 *  - bar 1 starts at the first time-signature event, unless that event opens an
 *    anacrusis: a first bar shorter than the piece's bar, closed by the next
 *    time-signature event exactly one (short) bar later. Then bar 1 starts at that next
 *    event and the pickup's beats are listed without a downbeat;
 *  - beats before the first note (rests of a partial first bar) are not listed: no
 *    downbeat is claimed where nothing sounds.
 * On the current set neither rule changes a file (all 126 truths identical before and
 * after: the dev songs start on a bar line, the held-out files carry one time signature
 * and their first note is on a bar line), so the set's figures are unchanged by it.
 */
import { tickClock, type MidiFile } from "./midi.ts";

export interface MidiTruthOptions {
  /** MIDI quarter notes per beat (1 simple meters; 1.5 for x/8 compound in notation; 3 for MMA's 68swing). */
  quartersPerBeat: number;
  beatsPerBar: number;
  /** Tick where bar 1 starts (default: the first time-signature event, else 0). */
  originTicks?: number;
  maxSeconds: number;
}

export interface MidiTruth {
  bpm: number;
  beats: number[];
  downbeats: number[];
  /** Seconds of music in the excerpt (to the last note's end, at most maxSeconds). */
  duration: number;
  /** Seconds where the first note sounds (for checking the render's alignment). */
  firstNote: number;
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;

/** Tick where bar 1 starts by the rule in the header (anacrusis skipped). */
export function barOrigin(m: Pick<MidiFile, "ppq" | "timeSigs">, barTicks: number): number {
  const [first, next] = m.timeSigs;
  if (!first) return 0;
  const firstBar = (m.ppq * 4 * first.num) / first.den;
  if (next && firstBar < barTicks && next.tick - first.tick === firstBar) return next.tick;
  return first.tick;
}

export function midiTruth(m: MidiFile, o: MidiTruthOptions): MidiTruth {
  const clock = tickClock(m);
  const beatTicks = m.ppq * o.quartersPerBeat;
  const barTicks = beatTicks * o.beatsPerBar;
  const origin = o.originTicks ?? barOrigin(m, barTicks);
  if (m.notes.length === 0) throw new Error("MIDI file has no notes");
  const firstTick = (m.notes[0] as { tick: number }).tick;
  let lastOnset = 0;
  let lastEnd = 0;
  for (const n of m.notes) {
    lastOnset = Math.max(lastOnset, n.tick);
    lastEnd = Math.max(lastEnd, n.endTick);
  }
  // The bar holding the first note (notes a few ticks early are MMA's random timing).
  const firstBar = Math.floor((firstTick - origin + beatTicks / 4) / barTicks);
  const beats: number[] = [];
  const downbeats: number[] = [];
  for (let k = firstBar * o.beatsPerBar; ; k++) {
    const tick = origin + k * beatTicks;
    if (tick > lastOnset + beatTicks / 4) break;
    // Rests before the first note (a partial first bar): nothing sounds there yet.
    if (tick < firstTick - beatTicks / 4) continue;
    const t = clock(tick);
    if (t > o.maxSeconds - 0.05) break;
    if (t < 0) continue;
    beats.push(r3(t));
    if (((k % o.beatsPerBar) + o.beatsPerBar) % o.beatsPerBar === 0) downbeats.push(r3(t));
  }
  const ibis = beats
    .slice(1)
    .map((b, i) => b - (beats[i] as number))
    .sort((a, b) => a - b);
  const med = ibis[Math.floor(ibis.length / 2)] ?? 0;
  return {
    bpm: med > 0 ? Math.round(600 / med) / 10 : 0,
    beats,
    downbeats,
    duration: r3(Math.min(o.maxSeconds, clock(lastEnd))),
    firstNote: r3(clock(firstTick)),
  };
}
