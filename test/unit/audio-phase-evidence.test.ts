import { describe, expect, it } from "vitest";
import { drumPlacement, halfBeatShift } from "../../scripts/audio-eval/phase-evidence.ts";
import type { MidiFile, MidiNote } from "../../scripts/audio-eval/midi.ts";

const PPQ = 96;
const note = (beat: number, pitch: number, channel = 9): MidiNote => ({
  tick: Math.round(beat * PPQ),
  channel,
  pitch,
  velocity: 100,
  endTick: Math.round(beat * PPQ) + 10,
});
const midi = (notes: MidiNote[]): MidiFile => ({
  format: 1,
  ppq: PPQ,
  tempos: [{ tick: 0, usPerQuarter: 500000 }],
  timeSigs: [],
  keySigs: [],
  notes,
  tempoOffsets: [],
});

describe("phase evidence (scripts/audio-eval/phase-evidence.ts)", () => {
  it("counts an oom-pah bar (kick on every beat, snare on every 'and') as kicks on, snares off the beat", () => {
    const notes: MidiNote[] = [];
    for (let bar = 0; bar < 4; bar++)
      for (let b = 0; b < 4; b++) {
        notes.push(note(bar * 4 + b, 36), note(bar * 4 + b + 0.5, 38));
        // Hi-hats on every sixteenth and a melody note on the beat: neither is counted.
        for (let s = 0; s < 4; s++) notes.push(note(bar * 4 + b + s / 4, 42));
        notes.push(note(bar * 4 + b, 36, 0));
      }
    expect(drumPlacement(midi(notes))).toEqual({ kickOn: 16, kickAnd: 0, snareOn: 0, snareAnd: 16 });
  });

  it("rounds a hit a few ticks early to its sixteenth and leaves sixteenths off both counts", () => {
    const p = drumPlacement(midi([note(1 - 2 / PPQ, 40), note(1.25, 40), note(1.75, 35), note(2.5 + 1 / PPQ, 35)]));
    expect(p).toEqual({ kickOn: 0, kickAnd: 1, snareOn: 1, snareAnd: 0 });
  });

  it("moves the truth by half a beat to the midpoints", () => {
    expect(halfBeatShift([0, 0.5, 1.5, 2])).toEqual([0.25, 1, 1.75]);
    expect(halfBeatShift([1])).toEqual([]);
  });
});
