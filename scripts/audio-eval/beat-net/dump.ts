/**
 * Training and evaluation data of the beat network (README.md): for every song of the dev
 * parts of the evaluation sets (real dev with its tempo sweep, dev-grooves, dev-games,
 * synthetic), the analyser's band energies (features.ts, frame-major float32, T x 36) and
 * the song's ground truth. The held-out set is never read.
 * CLI: node --import tsx scripts/audio-eval/beat-net/dump.ts OUT [--real DIR] [--synthetic DIR] [--shard K/N]
 * Writes OUT/<id>.f32 and OUT/<id>.json; songs already dumped are skipped.
 */
import fs from "node:fs";
import path from "node:path";
import { decodeAudio } from "../../../plugins/audio/decode.ts";
import { frameFeatures } from "../../../plugins/audio/dsp/features.ts";

export const SR = 22050;
/** The parts a song may come from; the held-out set is not among them. */
export const PARTS = ["dev", "dev-grooves", "dev-games", "synthetic"] as const;
export type Part = (typeof PARTS)[number];

export interface DevSong {
  part: Part;
  json: string;
  audio: string;
}

/** The songs (truth JSON beside its audio) in one part's folder; the synthetic folder also holds non-song files. */
export function songsIn<P extends string>(dir: string, part: P): { part: P; json: string; audio: string }[] {
  if (!fs.existsSync(dir)) return [];
  const out: { part: P; json: string; audio: string }[] = [];
  for (const f of fs.readdirSync(dir).sort()) {
    if (!f.endsWith(".json") || (part === "synthetic" && !f.startsWith("song"))) continue;
    const json = path.join(dir, f);
    const audio = [".mp3", ".wav"].map((e) => json.replace(/\.json$/, e)).find((p) => fs.existsSync(p));
    if (audio) out.push({ part, json, audio });
  }
  return out;
}

/** Every song of the dev parts. */
export function devSongs(realDir: string, synthDir: string): DevSong[] {
  return PARTS.flatMap((part) => songsIn(part === "synthetic" ? synthDir : path.join(realDir, part), part));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (n: string) => {
    const i = process.argv.indexOf(n);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const out = process.argv[2];
  if (!out || out.startsWith("--")) throw new Error("usage: dump.ts OUT [--real DIR] [--synthetic DIR] [--shard K/N]");
  const [k, n] = (arg("--shard") ?? "0/1").split("/").map(Number) as [number, number];
  const songs = devSongs(arg("--real") ?? "eval-set/real", arg("--synthetic") ?? "eval-set/synthetic");
  fs.mkdirSync(out, { recursive: true });
  let done = 0;
  for (let i = k; i < songs.length; i += n) {
    const s = songs[i] as DevSong;
    const t = JSON.parse(fs.readFileSync(s.json, "utf8")) as { id: string; beats?: number[] };
    if (!t.beats || fs.existsSync(path.join(out, `${t.id}.json`))) continue;
    const f = frameFeatures(await decodeAudio(s.audio, { sampleRate: SR }), SR);
    fs.writeFileSync(path.join(out, `${t.id}.f32`), Buffer.from(f.bands.buffer, f.bands.byteOffset, f.nFrames * f.nBands * 4));
    fs.writeFileSync(path.join(out, `${t.id}.json`), JSON.stringify({ ...t, part: s.part, frameRate: f.frameRate, nFrames: f.nFrames, nBands: f.nBands }));
    done++;
  }
  console.log(`dumped ${done} songs to ${out}`);
}
