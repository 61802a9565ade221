/**
 * Did the decode get all the audio the file says it has? ffmpeg decodes a truncated mp3
 * or a WAV whose header promises gigabytes up to where the bytes stop and exits 0, so a
 * 3 KB fragment of a song used to be analysed as 0.2 s of near-silence (`bpm: null`) with
 * nothing telling the caller why. The analysis of what did decode is still returned (a
 * VBR mp3 without a Xing header has only an estimated duration, so a shortfall is not
 * proof of damage), with a warning that says how much was decoded against how much the
 * file declares; the caller decides. Nothing decodable at all stays a 400 (decode.ts).
 */
import fsp from "node:fs/promises";
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A shortfall under this many seconds (or under 2 %) is rounding, padding or encoder delay. */
const TOLERANCE_S = 0.5;

/** Seconds the container says it holds (ffprobe's format duration; ffmpeg caps a lying WAV header at the file size). */
async function probedSeconds(file: string, ffprobePath: string): Promise<number | null> {
  try {
    const { stdout } = await run(ffprobePath, ["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", file], { timeout: 30_000 });
    const s = Number(stdout.trim());
    return Number.isFinite(s) && s > 0 ? s : null;
  } catch {
    return null;
  }
}

/**
 * What a RIFF/WAVE header declares: the data chunk's size over the byte rate. ffprobe
 * does not report it (it trusts the file size), so it is read here: 64 KiB covers the
 * chunks that precede `data` in real files (fmt, LIST, fact).
 */
async function wavHeaderSeconds(file: string): Promise<{ seconds: number; bytes: number } | null> {
  const fh = await fsp.open(file, "r");
  try {
    const head = Buffer.alloc(65_536);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    if (bytesRead < 12 || head.toString("latin1", 0, 4) !== "RIFF" || head.toString("latin1", 8, 12) !== "WAVE") return null;
    let byteRate = 0;
    for (let at = 12; at + 8 <= bytesRead;) {
      const id = head.toString("latin1", at, at + 4);
      const size = head.readUInt32LE(at + 4);
      if (id === "fmt " && at + 20 <= bytesRead) byteRate = head.readUInt32LE(at + 16);
      if (id === "data") return byteRate > 0 ? { seconds: size / byteRate, bytes: size } : null;
      at += 8 + size + (size % 2);
    }
    return null;
  } finally {
    await fh.close();
  }
}

/** Warnings (empty when the decode is complete). `field` names the request field. */
export async function completenessWarnings(file: string, decodedSeconds: number, field: string, ffprobePath = "ffprobe"): Promise<string[]> {
  const [probed, wav] = await Promise.all([probedSeconds(file, ffprobePath), wavHeaderSeconds(file).catch(() => null)]);
  const declared = Math.max(probed ?? 0, wav?.seconds ?? 0);
  if (declared <= 0 || decodedSeconds >= declared - Math.max(TOLERANCE_S, declared * 0.02)) return [];
  const ratio = (decodedSeconds / declared) * 100;
  const pct = ratio < 0.1 ? "under 0.1" : String(Math.round(ratio * 10) / 10);
  const source =
    wav && wav.seconds >= declared ? `its WAV header declares ${wav.bytes} bytes of audio (${declared.toFixed(2)} s)` : `it declares ${declared.toFixed(2)} s`;
  return [
    `${field}: only ${decodedSeconds.toFixed(2)} s of audio could be decoded but ${source} (${pct}%): the file is truncated or corrupt, and the analysis covers the decoded part only`,
  ];
}
