/**
 * Which packaged MIDI tracks can join the evaluation set, by one rule (issue 12: game
 * music from Debian packages, composed by many people, used as a dev part). A track is
 * kept when its excerpt (the first `maxSeconds`, what is rendered) has:
 *  - a steady tempo: every tempo event in the excerpt within ±2 % of the first one, so a
 *    single BPM is the truth (ritardandos and tempo changes are dropped, not averaged);
 *  - a known meter: its time-signature events in the excerpt all say the same 4/4, 3/4,
 *    6/8 or 12/8; a file without any time-signature event is 4/4 by the Standard MIDI
 *    File specification, and is kept only when its drums agree: their pattern repeats
 *    after 4 beats clearly more exactly than after 3 (Jaccard similarity of drum onsets
 *    at least 0.03 higher; a waltz written without a time signature would otherwise be
 *    labelled 4/4, and a pattern that repeats every beat says nothing about the bar);
 *  - notes on the notated beat grid: at least 90 % of the onsets within 1/32 of a beat of
 *    a multiple of 1/4 or 1/3 of the beat. Files converted from Doom's MUS format keep
 *    MUS's 140 Hz clock with an arbitrary MIDI tempo (Freedoom's ppq 89 files): their
 *    notated beat is not the music's, and they fail here;
 *  - drums: General MIDI channel 10 (index 9) plays in at least 60 % of the bars.
 * The meter label is then checked against the note grid as for every other file
 * (meter-grid.ts notatedMeter).
 */
import { tickClock, type MidiFile } from "./midi.ts";
import type { Meter } from "./real-specs.ts";

export interface TrackVerdict {
  keep: boolean;
  /** Why a track was dropped (or "kept"). */
  reason: string;
  meter: Meter | null;
  /** MIDI quarter notes per beat (1.5 for 6/8 and 12/8: the dotted quarter). */
  quartersPerBeat: number;
  beatsPerBar: number;
  /** Share of onsets on the beat grid, share of bars with drums, drum repetition after 4 and 3 beats. */
  stats: { onGrid: number; drumBars: number; rep4: number; rep3: number };
}

const METERS: Record<string, { meter: Meter; qpb: number; bpb: number }> = {
  "4/4": { meter: "4/4", qpb: 1, bpb: 4 },
  "3/4": { meter: "3/4", qpb: 1, bpb: 3 },
  "6/8": { meter: "6/8", qpb: 1.5, bpb: 2 },
  "12/8": { meter: "12/8", qpb: 1.5, bpb: 4 },
};

const TEMPO_TOL = 0.02;
const GRID_TOL = 1 / 32;
const MIN_ON_GRID = 0.9;
const MIN_DRUM_BARS = 0.6;
/** How much more exactly the drums must repeat after 4 beats than after 3 (no time signature). */
const REP_MARGIN = 0.03;

/** Similarity of the drum pattern with itself `lagBeats` later, on a 1/12-beat grid (Jaccard of onset slots). */
export function drumRepetition(notes: { tick: number; channel: number }[], ppq: number, lagBeats: number): number {
  const slot = ppq / 12;
  const on = new Set<number>();
  for (const n of notes) if (n.channel === 9) on.add(Math.round(n.tick / slot));
  const lag = lagBeats * 12;
  let both = 0;
  let either = 0;
  for (const s of on) {
    // Every pair of slots (x, x + lag) with an onset counted once: from its earlier
    // member when that is on, else (s - lag off, s on) from s.
    either++;
    if (on.has(s + lag)) both++;
    if (!on.has(s - lag)) either++;
  }
  return either > 0 ? both / either : 0;
}

export function judgeTrack(m: MidiFile, maxSeconds: number): TrackVerdict {
  const drop = (reason: string, stats = { onGrid: 0, drumBars: 0, rep4: 0, rep3: 0 }): TrackVerdict => ({
    keep: false,
    reason,
    meter: null,
    quartersPerBeat: 1,
    beatsPerBar: 4,
    stats,
  });
  if (m.notes.length === 0) return drop("no notes");
  const clock = tickClock(m);
  const inExcerpt = (tick: number) => clock(tick) < maxSeconds;
  const tempos = m.tempos.filter((t) => inExcerpt(t.tick));
  const first = tempos[0]?.usPerQuarter ?? 500000;
  if (tempos.some((t) => Math.abs(first / t.usPerQuarter - 1) > TEMPO_TOL)) return drop("tempo changes in the excerpt");

  const sigs = m.timeSigs.filter((s) => inExcerpt(s.tick));
  const names = new Set(sigs.map((s) => `${s.num}/${s.den}`));
  if (names.size > 1) return drop(`meter changes in the excerpt (${[...names].join(", ")})`);
  const name = sigs.length > 0 ? `${sigs[0]!.num}/${sigs[0]!.den}` : "4/4";
  const known = METERS[name];
  if (!known) return drop(`meter ${name} is outside the set's labels`);

  const notes = m.notes.filter((n) => inExcerpt(n.tick));
  const beatTicks = m.ppq * known.qpb;
  const origin = sigs[0]?.tick ?? 0;
  let on = 0;
  for (const n of notes) {
    const x = (n.tick - origin) / beatTicks;
    const frac = x - Math.floor(x);
    const near = (step: number) => {
      const r = frac / step;
      return Math.abs(r - Math.round(r)) * step <= GRID_TOL;
    };
    if (near(1 / 4) || near(1 / 3)) on++;
  }
  const barTicks = beatTicks * known.bpb;
  const bars = new Set<number>();
  const drumBars = new Set<number>();
  for (const n of notes) {
    const bar = Math.floor((n.tick - origin) / barTicks);
    bars.add(bar);
    if (n.channel === 9) drumBars.add(bar);
  }
  const lastBar = Math.max(...bars);
  const firstBar = Math.min(...bars);
  const stats = {
    onGrid: on / notes.length,
    drumBars: drumBars.size / (lastBar - firstBar + 1),
    rep4: drumRepetition(notes, m.ppq * known.qpb, 4),
    rep3: drumRepetition(notes, m.ppq * known.qpb, 3),
  };
  if (stats.onGrid < MIN_ON_GRID) return drop("notes off the notated beat grid", stats);
  if (stats.drumBars < MIN_DRUM_BARS) return drop("too few bars with drums", stats);
  if (sigs.length === 0 && stats.rep4 < stats.rep3 + REP_MARGIN) return drop("no time signature and the drums do not repeat after 4 beats", stats);
  return { keep: true, reason: "kept", meter: known.meter, quartersPerBeat: known.qpb, beatsPerBar: known.bpb, stats };
}
