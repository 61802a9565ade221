/**
 * A reader for Doom WAD files (the format of Freedoom's game data), enough to pull out
 * the music lumps. Layout (documented in the Unofficial Doom Specs, ch. 2, and the
 * Doom Wiki "WAD" page): a 12-byte header — "IWAD" or "PWAD", the lump count and the
 * directory's offset as little-endian int32 — and a directory of 16-byte entries: the
 * lump's offset and size (int32 LE) and its name (8 bytes, NUL-padded ASCII).
 * Music lumps are named D_*: Standard MIDI Files ("MThd") or Doom's MUS format
 * ("MUS\x1a"); Freedoom 0.12 ships every music lump as MIDI.
 */

export interface WadLump {
  name: string;
  data: Buffer;
}

export class WadError extends Error {}

export function readWad(b: Buffer): WadLump[] {
  if (b.length < 12) throw new WadError("too short for a WAD header");
  const magic = b.toString("latin1", 0, 4);
  if (magic !== "IWAD" && magic !== "PWAD") throw new WadError(`not a WAD (magic ${JSON.stringify(magic)})`);
  const count = b.readInt32LE(4);
  const dir = b.readInt32LE(8);
  if (count < 0 || dir < 12 || dir + 16 * count > b.length) throw new WadError("directory outside the file");
  const lumps: WadLump[] = [];
  for (let i = 0; i < count; i++) {
    const e = dir + 16 * i;
    const offset = b.readInt32LE(e);
    const size = b.readInt32LE(e + 4);
    const raw = b.toString("latin1", e + 8, e + 16);
    const nul = raw.indexOf("\0");
    const name = nul >= 0 ? raw.slice(0, nul) : raw;
    // Marker lumps (F_START, ...) have size 0 and any offset.
    if (size > 0 && (offset < 0 || offset + size > b.length)) throw new WadError(`lump ${name} outside the file`);
    lumps.push({ name, data: b.subarray(offset, offset + size) });
  }
  return lumps;
}

export type MusicFormat = "midi" | "mus" | "other";

export function musicFormat(data: Buffer): MusicFormat {
  const head = data.toString("latin1", 0, 4);
  if (head === "MThd") return "midi";
  if (head === "MUS\x1a") return "mus";
  return "other";
}

/** The music lumps (D_*) of a WAD. */
export const musicLumps = (lumps: WadLump[]) => lumps.filter((l) => l.name.startsWith("D_") && l.data.length > 0);
