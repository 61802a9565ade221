import fs from "node:fs";
import { analyzeAudioFile } from "./plugins/audio/library.ts";
import { beatF, boundaryHitRate, keyScore, tempoAcc1 } from "./plugins/audio/eval/metrics.ts";
const ids = process.argv.slice(2).length ? process.argv.slice(2) : fs.readdirSync("/tmp/aeval").filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5));
for (const id of ids) {
  const t = JSON.parse(fs.readFileSync(`/tmp/aeval/${id}.json`, "utf8"));
  const r = await analyzeAudioFile(`/tmp/aeval/${id}.mp3`);
  console.log(id, t.bpm, r.bpm, tempoAcc1(t.bpm, r.bpm) ? "ok" : "XX", "beatF", beatF(t.beats, r.beats!).toFixed(3), "dbF", beatF(t.downbeats, r.downbeats!).toFixed(3), t.time_signature, r.time_signature, "key", keyScore(t.key, r.key), "bnd", boundaryHitRate(t.boundaries, r.segments!).f.toFixed(2), t.sections.map((s: any) => s.type[0] + Math.round(s.start)).join(" "), "|", r.segments!.map((s) => s.type[0] + Math.round(s.start)).join(" "), "conf", r.tempo_confidence, r.beat_confidence, r.key_confidence);
}
