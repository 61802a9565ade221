import { generateSet } from "./scripts/audio-eval/generate.ts";
import { analyzeAudioFile } from "./plugins/audio/library.ts";
import { beatF, boundaryHitRate, keyScore, tempoAcc1 } from "./plugins/audio/eval/metrics.ts";
const t0 = Date.now();
const songs = generateSet("/tmp/aeval-short", "short");
console.log("gen", Date.now() - t0);
for (const s of songs) {
  const t = s.truth;
  const r = await analyzeAudioFile(s.mp3Path);
  console.log(t.id, t.duration, t.bpm, r.bpm, tempoAcc1(t.bpm, r.bpm), beatF(t.beats, r.beats!).toFixed(3), beatF(t.downbeats, r.downbeats!).toFixed(3), t.key, r.key, keyScore(t.key, r.key), boundaryHitRate(t.boundaries, r.segments!).f.toFixed(2), t.boundaries.join(","), "|", r.segments!.map((x) => x.type + x.start).join(" "));
}
