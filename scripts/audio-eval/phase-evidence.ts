/**
 * Beat-phase evidence per track of a real set (issue 12, session 10): where the notated
 * drums sit and where the analyser's beats land. For each song with a MIDI file next to
 * it (dev-games keeps its .mid): kick (GM 35/36) and snare (38/40) onsets on the notated
 * beat versus on its "and" (half a beat later, to the nearest sixteenth), and beat F of
 * the analysis against the truth and against the truth moved by half a beat. A song with
 * beat F near 0 and shifted beat F near 1 is tracked at the right tempo half a beat off;
 * the drum counts say whether the notation or the analyser follows the backbeat.
 * CLI: node --import tsx scripts/audio-eval/phase-evidence.ts [DIR]  (default eval-set/real/dev-games)
 */
import fs from "node:fs";
import path from "node:path";
import { parseMidi, type MidiFile } from "./midi.ts";
import { analyzeAudioFile } from "../../plugins/audio/library.ts";
import { beatF } from "../../plugins/audio/eval/metrics.ts";

export interface DrumPlacement {
  kickOn: number;
  kickAnd: number;
  snareOn: number;
  snareAnd: number;
}

const KICKS = new Set([35, 36]);
const SNARES = new Set([38, 40]);

/** Drum-channel kicks and snares on the notated beat versus on its "and". */
export function drumPlacement(m: MidiFile): DrumPlacement {
  const p: DrumPlacement = { kickOn: 0, kickAnd: 0, snareOn: 0, snareAnd: 0 };
  for (const n of m.notes) {
    if (n.channel !== 9) continue;
    // Sixteenth within the beat: 0 on the beat, 2 on the "and".
    const s = Math.round((n.tick % m.ppq) / (m.ppq / 4)) % 4;
    if (KICKS.has(n.pitch)) {
      if (s === 0) p.kickOn++;
      else if (s === 2) p.kickAnd++;
    } else if (SNARES.has(n.pitch)) {
      if (s === 0) p.snareOn++;
      else if (s === 2) p.snareAnd++;
    }
  }
  return p;
}

/** Midpoints of consecutive beats: the truth moved by half a beat. */
export function halfBeatShift(beats: number[]): number[] {
  return beats.slice(0, -1).map((b, i) => (b + (beats[i + 1] as number)) / 2);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = path.resolve(process.argv[2] ?? "eval-set/real/dev-games");
  console.log("song | ref BPM | est BPM | kick on/and | snare on/and | beat F | beat F vs shifted truth");
  for (const f of fs
    .readdirSync(dir)
    .filter((x) => x.endsWith(".json"))
    .sort()) {
    const id = f.replace(/\.json$/, "");
    const mid = path.join(dir, `${id}.mid`);
    const mp3 = path.join(dir, `${id}.mp3`);
    if (!fs.existsSync(mid) || !fs.existsSync(mp3)) continue;
    const truth = JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as { bpm: number; beats: number[] };
    const p = drumPlacement(parseMidi(fs.readFileSync(mid)));
    const r = await analyzeAudioFile(mp3, { analysisType: "beats" });
    const est = r.beats ?? [];
    const cols = [id, truth.bpm, r.bpm, `${p.kickOn}/${p.kickAnd}`, `${p.snareOn}/${p.snareAnd}`];
    console.log([...cols, beatF(truth.beats, est).toFixed(3), beatF(halfBeatShift(truth.beats), est).toFixed(3)].join(" | "));
  }
}
