/**
 * The dev-games part of the real-instrument set (issue 12, session 9): the WAD reader
 * that pulls Freedoom's music lumps out (scripts/audio-eval/wad.ts) and the rule that
 * decides which packaged MIDI tracks are kept (scripts/audio-eval/track-rule.ts).
 */
import { test } from "vitest";
import assert from "node:assert/strict";
import { musicFormat, musicLumps, readWad, WadError } from "../../scripts/audio-eval/wad.ts";
import { drumRepetition, judgeTrack } from "../../scripts/audio-eval/track-rule.ts";
import { parseMidi, type MidiFile, type MidiNote } from "../../scripts/audio-eval/midi.ts";

/** A WAD in memory: header, lumps, then the directory (as id Software's tools lay it out). */
function wad(lumps: { name: string; data: Buffer }[], magic = "IWAD"): Buffer {
  const body = Buffer.concat(lumps.map((l) => l.data));
  const dirOff = 12 + body.length;
  const out = Buffer.alloc(dirOff + 16 * lumps.length);
  out.write(magic, 0, "latin1");
  out.writeInt32LE(lumps.length, 4);
  out.writeInt32LE(dirOff, 8);
  body.copy(out, 12);
  let off = 12;
  lumps.forEach((l, i) => {
    const e = dirOff + 16 * i;
    out.writeInt32LE(l.data.length ? off : 0, e);
    out.writeInt32LE(l.data.length, e + 4);
    out.write(l.name, e + 8, "latin1");
    off += l.data.length;
  });
  return out;
}

/** A format-0 MIDI file: tempo, one note on channel 10 (drums) and its note off. */
function tinyMidi(): Buffer {
  const track = Buffer.from([0x00, 0xff, 0x51, 0x03, 0x07, 0xa1, 0x20, 0x00, 0x99, 36, 100, 0x60, 0x89, 36, 0, 0x00, 0xff, 0x2f, 0x00]);
  const hdr = Buffer.from([0x4d, 0x54, 0x68, 0x64, 0, 0, 0, 6, 0, 0, 0, 1, 0, 96]);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(track.length);
  return Buffer.concat([hdr, Buffer.from("MTrk", "latin1"), len, track]);
}

test("readWad lists lumps by name; musicLumps keeps the D_ lumps and musicFormat tells MIDI from MUS", () => {
  const mus = Buffer.concat([Buffer.from("MUS\x1a", "latin1"), Buffer.alloc(12)]);
  const w = wad([
    { name: "PLAYPAL", data: Buffer.alloc(20, 7) },
    { name: "F_START", data: Buffer.alloc(0) },
    { name: "D_E1M1", data: tinyMidi() },
    { name: "D_INTRO", data: mus },
  ]);
  const lumps = readWad(w);
  assert.deepEqual(
    lumps.map((l) => [l.name, l.data.length]),
    [
      ["PLAYPAL", 20],
      ["F_START", 0],
      ["D_E1M1", tinyMidi().length],
      ["D_INTRO", 16],
    ],
  );
  const music = musicLumps(lumps);
  assert.deepEqual(
    music.map((l) => [l.name, musicFormat(l.data)]),
    [
      ["D_E1M1", "midi"],
      ["D_INTRO", "mus"],
    ],
  );
  // The lump is the MIDI file itself: 120 BPM, one kick.
  const m = parseMidi(Buffer.from(music[0]!.data));
  assert.equal(m.tempos[0]!.usPerQuarter, 500000);
  assert.deepEqual(
    m.notes.map((n) => [n.channel, n.pitch, n.endTick]),
    [[9, 36, 96]],
  );
  assert.equal(musicFormat(Buffer.from("RIFF....", "latin1")), "other");
  assert.equal(readWad(wad([{ name: "D_X", data: tinyMidi() }], "PWAD")).length, 1);
});

test("readWad refuses what is not a WAD, and a directory or lump outside the file", () => {
  assert.throws(() => readWad(Buffer.from("MThd")), WadError);
  assert.throws(() => readWad(Buffer.from("XWAD\0\0\0\0\0\0\0\0", "latin1")), /not a WAD/);
  const w = wad([{ name: "D_E1M1", data: tinyMidi() }]);
  const badDir = Buffer.from(w);
  badDir.writeInt32LE(w.length, 8);
  assert.throws(() => readWad(badDir), /directory outside/);
  const badLump = Buffer.from(w);
  badLump.writeInt32LE(w.length * 2, 12 + tinyMidi().length + 4);
  assert.throws(() => readWad(badLump), /lump D_E1M1 outside/);
});

const PPQ = 96;

/**
 * A song as a MidiFile: `bars` bars of `beatsPerBar` beats; drums play `drum` (beat
 * fractions within the bar, in beats) in every bar from `drumFrom`; a bass note on each beat.
 */
function song(o: {
  bpm?: number;
  tempos?: { tick: number; bpm: number }[];
  sig?: { num: number; den: number } | null;
  beatsPerBar?: number;
  bars?: number;
  drum?: number[];
  drumFrom?: number;
  offset?: number;
}): MidiFile {
  const bpb = o.beatsPerBar ?? 4;
  const bars = o.bars ?? 16;
  const drum = o.drum ?? [0, 1, 2, 2.5, 3];
  const notes: MidiNote[] = [];
  const at = (beat: number) => Math.round(beat * PPQ) + (o.offset ?? 0);
  for (let bar = 0; bar < bars; bar++) {
    for (let b = 0; b < bpb; b++) notes.push({ tick: at(bar * bpb + b), channel: 0, pitch: 40, velocity: 90, endTick: at(bar * bpb + b) + 40 });
    if (bar >= (o.drumFrom ?? 0))
      for (const d of drum) notes.push({ tick: at(bar * bpb + d), channel: 9, pitch: d % 2 === 1 ? 38 : 36, velocity: 100, endTick: at(bar * bpb + d) + 10 });
  }
  notes.sort((a, b) => a.tick - b.tick);
  const tempos = (o.tempos ?? [{ tick: 0, bpm: o.bpm ?? 120 }]).map((t) => ({ tick: t.tick, usPerQuarter: Math.round(6e7 / t.bpm) }));
  const sig = o.sig === undefined ? { num: 4, den: 4 } : o.sig;
  return { format: 0, ppq: PPQ, tempos, timeSigs: sig ? [{ tick: 0, ...sig }] : [], keySigs: [], notes, tempoOffsets: [] };
}

test("a steady 4/4 song with drums on the grid is kept, with its meter and beat unit", () => {
  const v = judgeTrack(song({}), 75);
  assert.equal(v.keep, true, v.reason);
  assert.equal(v.meter, "4/4");
  assert.equal(v.quartersPerBeat, 1);
  assert.equal(v.beatsPerBar, 4);
  assert.equal(v.stats.onGrid, 1);
  assert.equal(v.stats.drumBars, 1);
  const waltz = judgeTrack(song({ sig: { num: 3, den: 4 }, beatsPerBar: 3, drum: [0, 1, 2] }), 75);
  assert.equal(waltz.meter, "3/4");
  const compound = judgeTrack(song({ sig: { num: 6, den: 8 }, beatsPerBar: 3, drum: [0, 1.5] }), 75);
  assert.deepEqual([compound.keep, compound.meter, compound.quartersPerBeat, compound.beatsPerBar], [true, "6/8", 1.5, 2]);
});

test("tempo changes, meters outside the labels and meter changes inside the excerpt are dropped", () => {
  assert.match(
    judgeTrack(
      song({
        tempos: [
          { tick: 0, bpm: 120 },
          { tick: 16 * PPQ, bpm: 140 },
        ],
      }),
      75,
    ).reason,
    /tempo changes/,
  );
  // A change of under 2 % (a sequencer's rounding) is steady.
  const nearly = song({
    tempos: [
      { tick: 0, bpm: 120 },
      { tick: 16 * PPQ, bpm: 121 },
    ],
  });
  assert.equal(judgeTrack(nearly, 75).keep, true);
  // A tempo change after the excerpt (120 BPM: 64 beats = 32 s) does not matter.
  const late = song({
    bars: 40,
    tempos: [
      { tick: 0, bpm: 120 },
      { tick: 38 * 4 * PPQ, bpm: 90 },
    ],
  });
  assert.equal(judgeTrack(late, 60).keep, true);
  assert.equal(judgeTrack(late, 80).keep, false);
  assert.match(judgeTrack(song({ sig: { num: 7, den: 4 }, beatsPerBar: 7 }), 75).reason, /7\/4 is outside/);
  const changing = song({});
  changing.timeSigs.push({ tick: 8 * PPQ, num: 3, den: 4 });
  assert.match(judgeTrack(changing, 75).reason, /meter changes/);
});

test("notes off the notated beat grid (MUS's 140 Hz clock) and too few drummed bars are dropped", () => {
  const off = song({});
  // Every beat stretched by 89/96: what a MUS conversion with ppq 89 at 95 BPM looks like.
  off.notes = off.notes.map((n) => ({ ...n, tick: Math.round((n.tick * 89) / 96) + 13 }));
  assert.match(judgeTrack(off, 75).reason, /off the notated beat grid/);
  // A long drumless intro: drums in 8 bars of 32.
  assert.match(judgeTrack(song({ bars: 32, drumFrom: 24 }), 75).reason, /too few bars with drums/);
  assert.equal(judgeTrack(song({ bars: 32, drumFrom: 10 }), 75).keep, true);
  assert.equal(judgeTrack({ ...song({}), notes: [] }, 75).reason, "no notes");
});

test("without a time signature, 4/4 is taken only when the drums repeat after 4 beats more than after 3", () => {
  const four = judgeTrack(song({ sig: null }), 75);
  assert.equal(four.keep, true, four.reason);
  assert.equal(four.meter, "4/4");
  assert.ok(four.stats.rep4 > four.stats.rep3 + 0.03);
  // A waltz pattern (bar of 3) with no time signature is not labelled 4/4.
  const waltz = judgeTrack(song({ sig: null, beatsPerBar: 3, drum: [0, 1, 1.5, 2] }), 75);
  assert.equal(waltz.keep, false);
  assert.match(waltz.reason, /do not repeat after 4 beats/);
  // Drums on every beat alike say nothing about the bar.
  assert.equal(judgeTrack(song({ sig: null, drum: [0, 1, 2, 3] }), 75).keep, false);
});

test("drumRepetition is the Jaccard similarity of drum onsets with themselves lagBeats later", () => {
  const notes = [0, 4, 8, 12].map((b) => ({ tick: b * PPQ, channel: 9 }));
  // Kicks every 4 beats: 3 of the 5 pairs (s, s+4) hold both; the 2 ends hold one.
  assert.equal(drumRepetition(notes, PPQ, 4), 3 / 5);
  assert.equal(drumRepetition(notes, PPQ, 3), 0);
  assert.equal(drumRepetition([{ tick: 0, channel: 0 }], PPQ, 4), 0);
});
