/**
 * The meter label of a real-set file checked against its MIDI note grid
 * (scripts/audio-eval/meter-grid.ts, issue 12: MMA's RockBallad plays even triplets on
 * every beat under a 4/4 time signature, like Rock128 which is labelled 12/8).
 */
import { test } from "vitest";
import assert from "node:assert/strict";
import { beatGrid, gridKind, notatedMeter } from "../../scripts/audio-eval/meter-grid.ts";
import type { MidiNote } from "../../scripts/audio-eval/midi.ts";

const PPQ = 480;

/** One note at each given fraction of every beat, for `beats` beats (a hi-hat pattern). */
function pattern(fracs: number[], beats = 32, jitter = 0): { notes: MidiNote[] } {
  const notes: MidiNote[] = [];
  for (let b = 0; b < beats; b++)
    for (const f of fracs) {
      // MMA humanises timing by a few ticks: the grid must tolerate it.
      const tick = Math.round((b + f) * PPQ) + (b % 2 ? jitter : -jitter);
      notes.push({ tick: Math.max(0, tick), channel: 9, pitch: 42, velocity: 80, endTick: tick + 60 });
    }
  return { notes };
}

test("even triplets on every beat are a triple grid; a slow 4/4 label on it becomes 12/8 (RockBallad)", () => {
  const g = beatGrid(pattern([0, 1 / 3, 2 / 3], 32, 8), PPQ);
  assert.equal(g.beats, 32);
  assert.equal(gridKind(g), "triple");
  assert.equal(notatedMeter("4/4", g, 70), "12/8");
  // The same triplets at a fast beat are written as a 4/4 shuffle.
  assert.equal(notatedMeter("4/4", g, 130), "4/4");
  assert.equal(notatedMeter("12/8", g, 60), "12/8");
});

test("a swung off-beat (2/3 alone) is not a triple grid: swing and shuffles keep 4/4", () => {
  const g = beatGrid(pattern([0, 2 / 3]), PPQ);
  assert.equal(gridKind(g), "mixed");
  assert.equal(notatedMeter("4/4", g, 80), "4/4");
  assert.equal(notatedMeter("6/8", g, 70), "6/8");
});

test("straight eighths are a duple grid: a 12/8 label on them becomes 4/4, a 6/8 label is refused", () => {
  const g = beatGrid(pattern([0, 1 / 2]), PPQ);
  assert.equal(gridKind(g), "duple");
  assert.equal(notatedMeter("4/4", g, 70), "4/4");
  assert.equal(notatedMeter("12/8", g, 70), "4/4");
  assert.throws(() => notatedMeter("6/8", g, 70), /2\/4/);
});

test("fills that use both divisions (bluegrass) keep the documented label; 3/4 on triplets stays 3/4", () => {
  const mixed = beatGrid(pattern([0, 1 / 3, 1 / 2, 2 / 3]), PPQ);
  assert.equal(gridKind(mixed), "mixed");
  assert.equal(notatedMeter("4/4", mixed, 70), "4/4");
  assert.equal(notatedMeter("3/4", beatGrid(pattern([0, 1 / 3, 2 / 3]), PPQ), 60), "3/4");
  assert.deepEqual(beatGrid({ notes: [] }, PPQ), { beats: 0, third: 0, half: 0, twoThirds: 0 });
});
