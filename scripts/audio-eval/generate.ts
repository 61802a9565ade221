/**
 * Render eval songs to WAV in TypeScript, then encode them to MP3 with ffmpeg (the way
 * users upload music), writing `<id>.mp3` and `<id>.json` (ground truth) per song.
 * CLI: node --import tsx scripts/audio-eval/generate.ts OUT_DIR [--short]
 */
import fs from "node:fs";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { renderSong, type GroundTruth, type SongSpec } from "./song.ts";
import { encodeWav } from "./wav.ts";
import { evalSpecs, shortSpecs } from "./specs.ts";

export const RENDER_SR = 44100;

export interface GeneratedSong {
  truth: GroundTruth;
  mp3Path: string;
  truthPath: string;
}

/** Render one song into `dir` (reused when the mp3 and truth already exist). */
export function generateSong(spec: SongSpec, dir: string): GeneratedSong {
  fs.mkdirSync(dir, { recursive: true });
  const mp3Path = path.join(dir, `${spec.id}.mp3`);
  const truthPath = path.join(dir, `${spec.id}.json`);
  if (fs.existsSync(mp3Path) && fs.existsSync(truthPath)) {
    return { truth: JSON.parse(fs.readFileSync(truthPath, "utf8")) as GroundTruth, mp3Path, truthPath };
  }
  const { audio, truth } = renderSong(spec, RENDER_SR);
  const wavPath = path.join(dir, `${spec.id}.wav`);
  fs.writeFileSync(wavPath, encodeWav(audio, RENDER_SR));
  const r = spawnSync("ffmpeg", ["-v", "error", "-y", "-i", wavPath, "-codec:a", "libmp3lame", "-b:a", "160k", mp3Path]);
  fs.rmSync(wavPath, { force: true });
  if (r.status !== 0) throw new Error(`ffmpeg mp3 encode failed: ${r.stderr?.toString() ?? r.error?.message}`);
  fs.writeFileSync(truthPath, JSON.stringify(truth));
  return { truth, mp3Path, truthPath };
}

export function generateSet(dir: string, which: "full" | "short" = "full"): GeneratedSong[] {
  return (which === "short" ? shortSpecs() : evalSpecs()).map((s) => generateSong(s, dir));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2];
  if (!dir) {
    console.error("usage: generate.ts OUT_DIR [--short]");
    process.exit(2);
  }
  const songs = generateSet(dir, process.argv.includes("--short") ? "short" : "full");
  for (const s of songs) console.log(`${s.truth.id}\t${s.truth.bpm} BPM\t${s.truth.time_signature}\t${s.truth.key}\t${s.truth.duration}s`);
}
