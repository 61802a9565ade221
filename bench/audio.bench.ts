/**
 * Audio analysis benchmark: accuracy on the generated evaluation set (24 synthetic songs
 * rendered to MP3) against the targets, and the speed of a full analysis of a
 * 3-minute song including decoding. Prints markdown tables.
 * Run: node --import tsx bench/audio.bench.ts [--keep DIR]
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { generateSet, generateSong } from "../scripts/audio-eval/generate.ts";
import { evalSpecs } from "../scripts/audio-eval/specs.ts";
import { analyzeAudioFile } from "../plugins/audio/library.ts";
import { beatF, boundaryHitRate, keyScore, labelAccuracy, tempoAcc1, tempoAcc2 } from "../plugins/audio/eval/metrics.ts";

const keepIdx = process.argv.indexOf("--keep");
const dir = keepIdx > 0 ? (process.argv[keepIdx + 1] as string) : fs.mkdtempSync(path.join(os.tmpdir(), "audio-eval-"));
const t0 = Date.now();
const songs = generateSet(dir, "full");
console.log(`Generated ${songs.length} songs in ${((Date.now() - t0) / 1000).toFixed(1)} s (${dir})\n`);

const rows: string[] = [];
const agg = { acc1: 0, acc2: 0, beat: 0, down: 0, key: 0, bnd: 0, meter: 0, label: 0 };
for (const s of songs) {
  const r = await analyzeAudioFile(s.mp3Path, { analysisType: "full" });
  const t = s.truth;
  const a1 = tempoAcc1(t.bpm, r.bpm);
  const a2 = tempoAcc2(t.bpm, r.bpm);
  const bf = beatF(t.beats, r.beats ?? []);
  const df = beatF(t.downbeats, r.downbeats ?? []);
  const ks = keyScore(t.key, r.key);
  const bh = boundaryHitRate(t.boundaries, r.segments ?? []).f;
  agg.acc1 += +a1;
  agg.acc2 += +a2;
  agg.beat += bf;
  agg.down += df;
  agg.key += ks;
  agg.bnd += bh;
  agg.meter += +(r.time_signature === t.time_signature);
  const la = labelAccuracy(t.sections, r.segments ?? []);
  agg.label += la;
  const segs = (r.segments ?? []).map((x) => x.type[0]).join("");
  const refSegs = t.sections.map((x) => x.type[0]).join("");
  rows.push(`| ${t.id} | ${t.bpm} | ${r.bpm ?? "null"} | ${a1 ? "✓" : a2 ? "oct" : "✗"} | ${bf.toFixed(3)} | ${t.time_signature} / ${r.time_signature} | ${df.toFixed(3)} | ${t.key} / ${r.key} (${ks}) | ${bh.toFixed(2)} | ${refSegs} / ${segs} (${la.toFixed(2)}) |`);
}
const n = songs.length;
console.log("| song | ref BPM | est BPM | tempo | beat F | meter ref/est | downbeat F | key ref/est (score) | boundary F | labels ref / est (time accuracy) |");
console.log("|---|---|---|---|---|---|---|---|---|---|");
console.log(rows.join("\n"));
const pct = (x: number) => `${((100 * x) / n).toFixed(1)} %`;
const mean = (x: number) => (x / n).toFixed(3);
const ok = (v: boolean) => (v ? "PASS" : "MISS");
console.log("\n| metric | result | target | |");
console.log("|---|---|---|---|");
console.log(`| tempo Acc1 (±4 %, octave errors miss) | ${pct(agg.acc1)} | >= 95 % | ${ok(agg.acc1 / n >= 0.95)} |`);
console.log(`| tempo Acc2 (octave errors allowed) | ${pct(agg.acc2)} | - | |`);
console.log(`| beat F-measure (±70 ms) | ${mean(agg.beat)} | >= 0.95 | ${ok(agg.beat / n >= 0.95)} |`);
console.log(`| downbeat F-measure (±70 ms) | ${mean(agg.down)} | >= 0.85 | ${ok(agg.down / n >= 0.85)} |`);
console.log(`| meter accuracy | ${pct(agg.meter)} | - | |`);
console.log(`| key MIREX weighted | ${mean(agg.key)} | >= 0.90 | ${ok(agg.key / n >= 0.9)} |`);
console.log(`| section boundary F (±3 s) | ${mean(agg.bnd)} | >= 0.70 | ${ok(agg.bnd / n >= 0.7)} |`);
console.log(`| section label time accuracy | ${mean(agg.label)} | - | |`);

// Speed: a song of at least 3 minutes (eval song 12's plan repeated), MP3, full analysis
// including decoding. Wall time is best of 5 (other processes share the CPU); node's own
// CPU time is shown too (ffmpeg runs as a separate process).
const spec = evalSpecs()[11]!;
const sections = [...spec.sections, ...spec.sections, ...spec.sections];
const barS = (60 / spec.bpm) * spec.beatsPerBar;
let bars = 0;
let cut = 0;
while (cut < sections.length && bars * barS < 181) bars += sections[cut++]!.bars;
const g = generateSong({ ...spec, id: "speed-3min", sections: sections.slice(0, cut) }, dir);
const runs: number[] = [];
const cpus: number[] = [];
let dur = 0;
for (let i = 0; i < 5; i++) {
  const c = process.cpuUsage();
  const s = process.hrtime.bigint();
  const r = await analyzeAudioFile(g.mp3Path, { analysisType: "full" });
  runs.push(Number(process.hrtime.bigint() - s) / 1e9);
  const d = process.cpuUsage(c);
  cpus.push((d.user + d.system) / 1e6);
  dur = r.duration;
}
const best = Math.min(...runs);
console.log("\n| speed test | audio | wall, best of 5 (decode + full analysis) | node CPU, best of 5 | realtime factor (wall) | target |");
console.log("|---|---|---|---|---|---|");
console.log(`| ${g.truth.id} mp3 | ${dur.toFixed(1)} s | ${best.toFixed(3)} s | ${Math.min(...cpus).toFixed(3)} s | ${(dur / best).toFixed(0)}x | >= 180x (3 min in <= 1 s): ${ok(dur / best >= 180)} |`);
if (keepIdx < 0) fs.rmSync(dir, { recursive: true, force: true });
