/**
 * Ground truth of the real-instrument set read from MIDI (scripts/audio-eval/midi-truth.ts),
 * issue 12 item 4: pickup bars. A Standard MIDI File is written byte by byte here, so
 * each case states exactly what the file holds: time-signature events, tempo, notes.
 */
import { test } from "vitest";
import assert from "node:assert/strict";
import { parseMidi } from "../../scripts/audio-eval/midi.ts";
import { barOrigin, midiTruth } from "../../scripts/audio-eval/midi-truth.ts";

const PPQ = 480;

function varLen(v: number): number[] {
  const out = [v & 0x7f];
  for (v >>= 7; v > 0; v >>= 7) out.unshift((v & 0x7f) | 0x80);
  return out;
}

interface Ev {
  tick: number;
  bytes: number[];
}

/** Format-0 SMF: 120 BPM (500 000 µs per quarter), the given time signatures and notes. */
function smf(timeSigs: { tick: number; num: number; den: number }[], noteTicks: number[]): Buffer {
  const evs: Ev[] = [{ tick: 0, bytes: [0xff, 0x51, 3, 0x07, 0xa1, 0x20] }];
  for (const t of timeSigs) evs.push({ tick: t.tick, bytes: [0xff, 0x58, 4, t.num, Math.log2(t.den), 24, 8] });
  for (const t of noteTicks) {
    evs.push({ tick: t, bytes: [0x99, 36, 100] });
    evs.push({ tick: t + PPQ / 4, bytes: [0x89, 36, 0] });
  }
  evs.sort((a, b) => a.tick - b.tick);
  const body: number[] = [];
  let last = 0;
  for (const e of evs) {
    body.push(...varLen(e.tick - last), ...e.bytes);
    last = e.tick;
  }
  body.push(0, 0xff, 0x2f, 0);
  const head = Buffer.alloc(14);
  head.write("MThd", 0, "latin1");
  head.writeUInt32BE(6, 4);
  head.writeUInt16BE(0, 8);
  head.writeUInt16BE(1, 10);
  head.writeUInt16BE(PPQ, 12);
  const trk = Buffer.alloc(8);
  trk.write("MTrk", 0, "latin1");
  trk.writeUInt32BE(body.length, 4);
  return Buffer.concat([head, trk, Buffer.from(body)]);
}

/** One note on every beat from `from` for `n` beats. */
const everyBeat = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i * PPQ);
const opts = { quartersPerBeat: 1, beatsPerBar: 4, maxSeconds: 60 };

test("no pickup: bar 1 starts at the first time signature, every fourth beat is a downbeat", () => {
  const m = parseMidi(smf([{ tick: 0, num: 4, den: 4 }], everyBeat(0, 16)));
  const t = midiTruth(m, opts);
  assert.equal(t.bpm, 120);
  assert.equal(t.beats.length, 16);
  assert.deepEqual(t.downbeats, [0, 2, 4, 6]);
});

test("a 1/4 pickup bar before the 4/4: bar 1 starts after it, the pickup beat has no downbeat", () => {
  const m = parseMidi(
    smf(
      [
        { tick: 0, num: 1, den: 4 },
        { tick: PPQ, num: 4, den: 4 },
      ],
      everyBeat(0, 17),
    ),
  );
  assert.equal(barOrigin(m, 4 * PPQ), PPQ);
  const t = midiTruth(m, opts);
  assert.equal(t.beats[0], 0);
  // Downbeats one beat (0.5 s at 120 BPM) after the start, then every bar.
  assert.deepEqual(t.downbeats, [0.5, 2.5, 4.5, 6.5]);
  // The rule read without the pickup's event would have claimed a downbeat at 0.
  const naive = midiTruth(m, { ...opts, originTicks: 0 });
  assert.equal(naive.downbeats[0], 0);
});

test("a first bar in another full meter is not a pickup (a 3/4 bar of the same length or longer than the piece's stays bar 1)", () => {
  const m = parseMidi(
    smf(
      [
        { tick: 0, num: 4, den: 4 },
        { tick: 4 * PPQ, num: 3, den: 4 },
      ],
      everyBeat(0, 8),
    ),
  );
  assert.equal(barOrigin(m, 4 * PPQ), 0);
});

test("rests before the first note (a partial first bar) list no beats and no downbeat where nothing sounds", () => {
  // Notes start on beat 4 of bar 0 (an anacrusis written as a full bar with rests).
  const m = parseMidi(smf([{ tick: 0, num: 4, den: 4 }], everyBeat(3 * PPQ, 13)));
  const t = midiTruth(m, opts);
  assert.equal(t.beats[0], 1.5);
  assert.equal(t.firstNote, 1.5);
  assert.deepEqual(t.downbeats, [2, 4, 6]);
});
