/**
 * A small Standard MIDI File reader (formats 0 and 1), written for the evaluation set:
 * it reads what ground truth needs — the tempo map, time and key signatures, and note
 * onsets per channel — and converts ticks to seconds through the tempo map, exactly as
 * a synthesizer plays the file. Also rewrites a file's tempo events scaled by a factor
 * (the tempo-scaled variants of the evaluation set).
 */

export interface MidiNote {
  tick: number;
  /** 0-based channel: 9 is the General MIDI drum channel. */
  channel: number;
  pitch: number;
  velocity: number;
  endTick: number;
}

export interface MidiFile {
  format: number;
  /** Ticks per quarter note. */
  ppq: number;
  /** Tempo changes, ascending: microseconds per quarter note from `tick` on. */
  tempos: { tick: number; usPerQuarter: number }[];
  timeSigs: { tick: number; num: number; den: number }[];
  /** Key signatures: sharps (negative = flats) and minor flag. */
  keySigs: { tick: number; sf: number; minor: boolean }[];
  notes: MidiNote[];
  /** Byte offsets of the 3 data bytes of every tempo event (for rewriting). */
  tempoOffsets: number[];
}

export class MidiParseError extends Error {}

function readVarLen(b: Buffer, pos: number): { value: number; pos: number } {
  let v = 0;
  for (let i = 0; i < 4; i++) {
    const c = b[pos++];
    if (c === undefined) throw new MidiParseError("truncated variable-length value");
    v = (v << 7) | (c & 0x7f);
    if (!(c & 0x80)) return { value: v, pos };
  }
  throw new MidiParseError("variable-length value over 4 bytes");
}

export function parseMidi(b: Buffer): MidiFile {
  if (b.toString("latin1", 0, 4) !== "MThd") throw new MidiParseError("not a MIDI file (no MThd)");
  const hdrLen = b.readUInt32BE(4);
  const format = b.readUInt16BE(8);
  const nTracks = b.readUInt16BE(10);
  const division = b.readUInt16BE(12);
  // SMPTE time division has no quarter note: none of our sources use it.
  if (division & 0x8000) throw new MidiParseError("SMPTE time division is not supported");
  const out: MidiFile = { format, ppq: division, tempos: [], timeSigs: [], keySigs: [], notes: [], tempoOffsets: [] };
  let pos = 8 + hdrLen;
  for (let t = 0; t < nTracks && pos + 8 <= b.length; t++) {
    const id = b.toString("latin1", pos, pos + 4);
    const len = b.readUInt32BE(pos + 4);
    const start = pos + 8;
    const end = Math.min(b.length, start + len);
    pos = start + len;
    if (id !== "MTrk") continue;
    readTrack(b, start, end, out);
  }
  out.tempos.sort((a, c) => a.tick - c.tick);
  out.timeSigs.sort((a, c) => a.tick - c.tick);
  out.keySigs.sort((a, c) => a.tick - c.tick);
  out.notes.sort((a, c) => a.tick - c.tick || a.channel - c.channel || a.pitch - c.pitch);
  if (out.tempos.length === 0 || (out.tempos[0] as { tick: number }).tick > 0) out.tempos.unshift({ tick: 0, usPerQuarter: 500000 });
  return out;
}

function readTrack(b: Buffer, start: number, end: number, out: MidiFile): void {
  let pos = start;
  let tick = 0;
  let status = 0;
  // Open notes per channel*128+pitch: a stack of start indexes (overlapping same notes).
  const open = new Map<number, number[]>();
  while (pos < end) {
    const d = readVarLen(b, pos);
    pos = d.pos;
    tick += d.value;
    let s = b[pos] as number;
    if (s & 0x80) pos++;
    else if (status)
      s = status; // running status
    else throw new MidiParseError("data byte without status");
    if (s === 0xff) {
      const type = b[pos++] as number;
      const l = readVarLen(b, pos);
      pos = l.pos;
      const data = pos;
      pos += l.value;
      if (type === 0x51 && l.value === 3) {
        out.tempos.push({ tick, usPerQuarter: ((b[data] as number) << 16) | ((b[data + 1] as number) << 8) | (b[data + 2] as number) });
        out.tempoOffsets.push(data);
      } else if (type === 0x58 && l.value >= 2) {
        out.timeSigs.push({ tick, num: b[data] as number, den: 2 ** (b[data + 1] as number) });
      } else if (type === 0x59 && l.value >= 2) {
        out.keySigs.push({ tick, sf: b.readInt8(data), minor: b[data + 1] === 1 });
      } else if (type === 0x2f) {
        break;
      }
      continue;
    }
    if (s === 0xf0 || s === 0xf7) {
      const l = readVarLen(b, pos);
      pos = l.pos + l.value;
      continue;
    }
    status = s;
    const kind = s & 0xf0;
    const ch = s & 0x0f;
    const a = b[pos] as number;
    const hasTwo = kind !== 0xc0 && kind !== 0xd0;
    const v = hasTwo ? (b[pos + 1] as number) : 0;
    pos += hasTwo ? 2 : 1;
    const key = ch * 128 + a;
    if (kind === 0x90 && v > 0) {
      out.notes.push({ tick, channel: ch, pitch: a, velocity: v, endTick: tick });
      const st = open.get(key) ?? [];
      st.push(out.notes.length - 1);
      open.set(key, st);
    } else if (kind === 0x80 || (kind === 0x90 && v === 0)) {
      const idx = open.get(key)?.shift();
      if (idx !== undefined) (out.notes[idx] as MidiNote).endTick = tick;
    }
  }
}

/** Converts ticks to seconds through the file's tempo map. */
export function tickClock(m: MidiFile): (tick: number) => number {
  const segs: { tick: number; sec: number; spt: number }[] = [];
  let sec = 0;
  for (let i = 0; i < m.tempos.length; i++) {
    const t = m.tempos[i] as { tick: number; usPerQuarter: number };
    if (i > 0) {
      const p = segs[segs.length - 1] as { tick: number; sec: number; spt: number };
      sec = p.sec + (t.tick - p.tick) * p.spt;
    }
    segs.push({ tick: t.tick, sec, spt: t.usPerQuarter / 1e6 / m.ppq });
  }
  return (tick: number) => {
    let lo = 0;
    let hi = segs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((segs[mid] as { tick: number }).tick <= tick) lo = mid;
      else hi = mid - 1;
    }
    const s = segs[lo] as { tick: number; sec: number; spt: number };
    return s.sec + (tick - s.tick) * s.spt;
  };
}

/** A copy of the file with every tempo event's microseconds-per-quarter divided by `factor`. */
export function scaleTempo(bytes: Buffer, m: MidiFile, factor: number): Buffer {
  const out = Buffer.from(bytes);
  for (const off of m.tempoOffsets) {
    const us = ((out[off] as number) << 16) | ((out[off + 1] as number) << 8) | (out[off + 2] as number);
    const v = Math.max(1, Math.min(0xffffff, Math.round(us / factor)));
    out[off] = (v >> 16) & 0xff;
    out[off + 1] = (v >> 8) & 0xff;
    out[off + 2] = v & 0xff;
  }
  return out;
}

const MAJOR_KEYS = ["Cb", "Gb", "Db", "Ab", "Eb", "Bb", "F", "C", "G", "D", "A", "E", "B", "F#", "C#"];
const MINOR_KEYS = ["Ab", "Eb", "Bb", "F", "C", "G", "D", "A", "E", "B", "F#", "C#", "G#", "D#", "A#"];
const SHARP_NAME: Record<string, string> = { Cb: "B", Gb: "F#", Db: "C#", Ab: "G#", Eb: "D#", Bb: "A#" };

/** "C major" / "F# minor" from a key signature (names spelled with sharps, as the analyser does). */
export function keySigName(sf: number, minor: boolean): string | null {
  const n = (minor ? MINOR_KEYS : MAJOR_KEYS)[sf + 7];
  if (!n) return null;
  return `${SHARP_NAME[n] ?? n} ${minor ? "minor" : "major"}`;
}
