/**
 * Damaged and hostile media for the fuzzer, made here (ffmpeg, zlib) once per run and kept
 * in memory: decompression bombs, truncated and zero-length files, headers that lie about
 * size, duration or dimensions. Each is sent as a data URL in a media field or as a
 * multipart upload; every one must get a 4xx (or a result that says what was wrong).
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";

const run = promisify(execFile);

export interface HostileMedia {
  name: string;
  mime: string;
  bytes: Buffer;
}

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/** A grayscale 8-bit PNG whose header says `w` x `h`, with `idat` as its (zlib) pixel data. */
export function pngWithHeader(w: number, h: number, idat: Buffer): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // grayscale
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", ihdr),
    pngChunk("IDAT", idat),
    pngChunk("IEND", Buffer.alloc(0)),
  ]);
}

/** A real decompression bomb: every row (filter byte + w zero pixels) of a w x h image, deflated. */
function bombPixels(w: number, h: number): Buffer {
  // Zeros deflate ~1000:1; the whole raw image is held once here (121 MB), then dropped.
  return zlib.deflateSync(Buffer.alloc((w + 1) * h), { level: 9 });
}

/** Patch the 32-bit big-endian field `offset` bytes after the first `atom` box type. */
function patchBox(bytes: Buffer, atom: string, offset: number, value: number): Buffer {
  const out = Buffer.from(bytes);
  const at = out.indexOf(Buffer.from(atom, "latin1"));
  if (at < 0) throw new Error(`${atom} not found`);
  out.writeUInt32BE(value >>> 0, at + 4 + offset);
  return out;
}

/**
 * The hostile set, and `good`: small valid files of each family, which the fuzzer puts in
 * media fields of otherwise-valid requests so that they reach the jobs behind the routes.
 */
export async function makeHostileMedia(good: HostileMedia[] = []): Promise<HostileMedia[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nb-fuzz-media-"));
  try {
    const ff = (...args: string[]) => run("ffmpeg", ["-v", "error", "-y", ...args]);
    const mp4 = path.join(dir, "a.mp4");
    const wav = path.join(dir, "a.wav");
    const mp3 = path.join(dir, "a.mp3");
    const png = path.join(dir, "a.png");
    const jpg = path.join(dir, "a.jpg");
    await ff(
      "-f",
      "lavfi",
      "-i",
      "testsrc=s=64x48:r=10:d=1",
      "-f",
      "lavfi",
      "-i",
      "sine=f=440:d=1",
      "-shortest",
      "-pix_fmt",
      "yuv420p",
      "-c:v",
      "libx264",
      "-c:a",
      "aac",
      mp4,
    );
    await ff("-f", "lavfi", "-i", "sine=f=440:d=1", "-ar", "16000", wav);
    await ff("-f", "lavfi", "-i", "sine=f=440:d=2", "-b:a", "64k", mp3);
    await ff("-f", "lavfi", "-i", "testsrc=s=64x48", "-frames:v", "1", png);
    await ff("-f", "lavfi", "-i", "testsrc=s=64x48", "-frames:v", "1", jpg);
    const v = fs.readFileSync(mp4);
    const w = fs.readFileSync(wav);
    const m = fs.readFileSync(mp3);
    const p = fs.readFileSync(png);
    const j = fs.readFileSync(jpg);
    const wavLie = Buffer.from(w);
    wavLie.writeUInt32LE(0xfffffff0, wavLie.indexOf("data", 12, "latin1") + 4);
    const jpgHuge = Buffer.from(j);
    const sof = jpgHuge.indexOf(Buffer.from([0xff, 0xc0]));
    if (sof > 0) {
      jpgHuge.writeUInt16BE(65500, sof + 5);
      jpgHuge.writeUInt16BE(65500, sof + 7);
    }
    good.push(
      { name: "good-png", mime: "image/png", bytes: p },
      { name: "good-jpeg", mime: "image/jpeg", bytes: j },
      { name: "good-wav", mime: "audio/wav", bytes: w },
      { name: "good-mp3", mime: "audio/mpeg", bytes: m },
      { name: "good-mp4", mime: "video/mp4", bytes: v },
    );
    const media: HostileMedia[] = [
      // 11,000 x 11,000 = 121 Mpx of zeros in ~120 KB: over the default 100 Mpx limit.
      { name: "png-bomb-121mpx", mime: "image/png", bytes: pngWithHeader(11_000, 11_000, bombPixels(11_000, 11_000)) },
      // The header claims 65,535 x 65,535 (4.3 Gpx); the data is a few bytes.
      { name: "png-header-4gpx", mime: "image/png", bytes: pngWithHeader(65_535, 65_535, zlib.deflateSync(Buffer.alloc(1000))) },
      { name: "jpeg-sof-65500", mime: "image/jpeg", bytes: jpgHuge },
      { name: "png-truncated", mime: "image/png", bytes: p.subarray(0, Math.floor(p.length / 3)) },
      { name: "png-magic-only", mime: "image/png", bytes: p.subarray(0, 8) },
      { name: "zero-length", mime: "image/png", bytes: Buffer.alloc(0) },
      { name: "mp4-truncated", mime: "video/mp4", bytes: v.subarray(0, Math.floor(v.length / 2)) },
      { name: "mp4-zero-length", mime: "video/mp4", bytes: Buffer.alloc(0) },
      // mvhd: version/flags(4) creation(4) modification(4) timescale(4) duration(4)
      { name: "mp4-mvhd-timescale-0", mime: "video/mp4", bytes: patchBox(v, "mvhd", 12, 0) },
      { name: "mp4-mvhd-duration-max", mime: "video/mp4", bytes: patchBox(v, "mvhd", 16, 0xffffffff) },
      // tkhd width/height are 16.16 fixed point at the end of the box (offsets 76 and 80 for version 0).
      { name: "mp4-tkhd-65535px", mime: "video/mp4", bytes: patchBox(patchBox(v, "tkhd", 76, 0xffff0000), "tkhd", 80, 0xffff0000) },
      { name: "mp4-stsz-count-max", mime: "video/mp4", bytes: patchBox(v, "stsz", 12, 0x7fffffff) },
      { name: "wav-data-4gb", mime: "audio/wav", bytes: wavLie },
      { name: "wav-header-only", mime: "audio/wav", bytes: w.subarray(0, 44) },
      { name: "mp3-truncated", mime: "audio/mpeg", bytes: m.subarray(0, 300) },
      { name: "mp4-as-png", mime: "image/png", bytes: v },
      { name: "random-bytes", mime: "application/octet-stream", bytes: Buffer.from(Array.from({ length: 2048 }, (_, i) => (i * 2654435761) >>> 24)) },
    ];
    return media;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export const dataUrl = (m: HostileMedia): string => `data:${m.mime};base64,${m.bytes.toString("base64")}`;
