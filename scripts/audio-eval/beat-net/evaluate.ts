/**
 * Measures the beat network (README.md) against the analyser as it ships, song by song,
 * on the dev parts (and on the held-out set with --heldout: read once, for a decision,
 * never for tuning). Five answers per song:
 *  - "analyser": analyzePcm as it ships (DSP only);
 *  - "network": tempo from the beat activation alone (its autocorrelation weighted by the
 *    log-normal prior around 120 BPM, tempo.ts), beats tracked on the activation (the
 *    analyser's dynamic-programming tracker), downbeats at the bar phase where the
 *    downbeat activation is highest (3 or 4 beats);
 *  - "combined": the analyser's level model (tempo-level.ts, committed weights) choosing
 *    among its candidates only those at ½, 1 or 2 times the network's tempo (so no 4:3 or
 *    3:2 answer the network does not support), beats tracked on the activation, bars by
 *    the analyser's meter and downbeat rule (downbeats.ts) at those beats;
 *  - "combined, network downbeats": the same beats and bar length, the bar phase from the
 *    analyser's bar-start evidence plus the downbeat activation at each beat (z-scored);
 *  - "analyser with network": analyzePcm given the activations, as the plugin runs it on a
 *    node that has the model (analyze-worker.ts).
 * CLI: node --import tsx scripts/audio-eval/beat-net/evaluate.ts MODEL.onnx [--real DIR] [--synthetic DIR] [--heldout] [--parts P,Q] [--songs OUT.json]
 * (--parts: only those parts, e.g. heldout; --songs: every song's scores as JSON.)
 */
import fs from "node:fs";
import path from "node:path";
import * as ort from "onnxruntime-node";
import { decodeAudio } from "../../../plugins/audio/decode.ts";
import { analyzePcm } from "../../../plugins/audio/analyze.ts";
import { frameFeatures } from "../../../plugins/audio/dsp/features.ts";
import { chromagram } from "../../../plugins/audio/dsp/chroma.ts";
import { percussiveOnsets } from "../../../plugins/audio/dsp/percussive.ts";
import { estimateTempo, localTempoCurve } from "../../../plugins/audio/dsp/tempo.ts";
import { trackBeats } from "../../../plugins/audio/dsp/beat-track.ts";
import { levelCandidates, levelEvidence, scoreCandidate } from "../../../plugins/audio/dsp/tempo-level.ts";
import { barCues } from "../../../plugins/audio/dsp/bar-cues.ts";
import { barStartEvidence, estimateMeter, positionScores, viterbiDownbeats } from "../../../plugins/audio/dsp/downbeats.ts";
import { phaseSplit } from "../../../plugins/audio/dsp/phase-split.ts";
import { grooveOf } from "../fit-tempo-level.ts";
import { scoreSong, totals, pct, f3, type SongScore, type Truthish } from "../score.ts";
import { beatNetInput } from "../../../plugins/audio/beat-net/input.ts";
import { devSongs, songsIn, SR, type DevSong } from "./dump.ts";

interface Answer {
  bpm: number | null;
  beats: number[];
  downbeats: number[];
  time_signature: string | null;
}

const ANSWERS = ["analyser", "network", "combined", "combined, network downbeats", "analyser with network"] as const;

/** The network's beat and downbeat activations for one song. */
async function activations(session: ort.InferenceSession, f: ReturnType<typeof frameFeatures>): Promise<[Float32Array, Float32Array]> {
  const x = new ort.Tensor("float32", beatNetInput(f), [1, 72, f.nFrames]);
  const out = (await session.run({ x })).act as ort.Tensor;
  const a = out.data as Float32Array;
  return [a.slice(0, f.nFrames), a.slice(f.nFrames, 2 * f.nFrames)];
}

const medianBpm = (beats: number[]) => {
  const ibis = beats
    .slice(1)
    .map((b, i) => b - (beats[i] as number))
    .sort((p, q) => p - q);
  return ibis.length ? Math.round(600 / (ibis[ibis.length >> 1] as number)) / 10 : null;
};

/** Beats tracked on the activation at a beat period (frames). */
function trackOn(act: Float32Array, frameRate: number, lag: number): number[] {
  return trackBeats(act, localTempoCurve(act, frameRate, lag)).map((fr) => fr / frameRate);
}

/** Bar phase and length (3 or 4) where the downbeat activation at the beats is highest; 4 unless 3 wins by 10 %. */
function downbeatsFromActivation(down: Float32Array, frameRate: number, beats: number[]): { downbeats: number[]; bar: number } {
  const v = Float64Array.from(beats, (t) => down[Math.round(t * frameRate)] ?? 0);
  let best = { score: -Infinity, bar: 4, phase: 0 };
  for (const bar of [4, 3])
    for (let phase = 0; phase < bar; phase++) {
      const { on, off } = phaseSplit(v, bar, phase);
      const score = (on ?? 0) - (off ?? 0);
      if (score > (bar === 3 ? best.score * 1.1 : best.score)) best = { score, bar, phase };
    }
  return { downbeats: beats.filter((_, i) => i % best.bar === best.phase), bar: best.bar };
}

async function answers(session: ort.InferenceSession, audio: string): Promise<Record<(typeof ANSWERS)[number], Answer>> {
  const x = await decodeAudio(audio, { sampleRate: SR });
  const shipped = analyzePcm(x, SR, { analysisType: "beats" });
  const f = frameFeatures(x, SR);
  const [beat, down] = await activations(session, f);
  const withNet = analyzePcm(x, SR, { analysisType: "beats", features: f, activation: { beat, downbeat: down } });
  const fr = f.frameRate;
  // Network alone.
  const nt = estimateTempo(beat, fr);
  const nBeats = nt.periodFrames > 0 ? trackOn(beat, fr, nt.periodFrames) : [];
  const nDown = downbeatsFromActivation(down, fr, nBeats);
  // Combined: the level model among the network's octaves.
  const chroma = chromagram(x, SR);
  const perc = percussiveOnsets(f);
  const p0 = estimateTempo(f.onset, fr).periodFrames;
  let lag = nt.periodFrames;
  if (p0 > 0 && nt.periodFrames > 0) {
    const cands = levelCandidates(levelEvidence(fr, f.onset, perc, chroma), p0).filter((c) =>
      [0.5, 1, 2].some((q) => Math.abs(c.lag / (nt.periodFrames * q) - 1) <= 0.04),
    );
    let best = -Infinity;
    for (const c of cands) {
      const s = scoreCandidate(c.features);
      if (s > best) {
        best = s;
        lag = c.lag;
      }
    }
  }
  const cBeats = lag > 0 ? trackOn(beat, fr, lag) : [];
  const cues = cBeats.length >= 6 ? barCues(f, perc, chroma, cBeats) : null;
  const meter = cues ? estimateMeter(cues) : null;
  let netDown: number[] = [];
  if (cues && meter) {
    const ev = barStartEvidence(
      cues,
      Float64Array.from(cBeats, (t) => down[Math.round(t * fr)] ?? 0),
    );
    netDown = viterbiDownbeats(positionScores(ev, meter.beatsPerBar), meter.beatsPerBar).map((i) => cBeats[i] as number);
  }
  return {
    analyser: { bpm: shipped.bpm ?? null, beats: shipped.beats ?? [], downbeats: shipped.downbeats ?? [], time_signature: shipped.time_signature ?? null },
    network: { bpm: medianBpm(nBeats), beats: nBeats, downbeats: nDown.downbeats, time_signature: nDown.bar === 3 ? "3/4" : "4/4" },
    combined: {
      bpm: medianBpm(cBeats),
      beats: cBeats,
      downbeats: meter ? meter.downbeatIdx.map((i) => cBeats[i] as number) : [],
      time_signature: meter ? (meter.beatsPerBar === 3 ? "3/4" : "4/4") : null,
    },
    "analyser with network": {
      bpm: withNet.bpm ?? null,
      beats: withNet.beats ?? [],
      downbeats: withNet.downbeats ?? [],
      time_signature: withNet.time_signature ?? null,
    },
    "combined, network downbeats": {
      bpm: medianBpm(cBeats),
      beats: cBeats,
      downbeats: netDown,
      time_signature: meter ? (meter.beatsPerBar === 3 ? "3/4" : "4/4") : null,
    },
  };
}

/** Which row a song's scores go to: dev (sweep apart), dev-grooves split as train.py splits it. */
function rowOf(s: DevSong | { part: "heldout" }, t: { id: string; sweep?: boolean }, valGrooves: Set<string>): string {
  if (s.part === "dev") return t.sweep ? "dev sweep (70)" : "dev (102)";
  if (s.part === "dev-grooves") return valGrooves.has(grooveOf(t.id)) ? "dev-grooves, not trained on" : "dev-grooves, trained on";
  return s.part;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (n: string) => {
    const i = process.argv.indexOf(n);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const model = process.argv[2];
  if (!model || !fs.existsSync(model))
    throw new Error("usage: evaluate.ts MODEL.onnx [--real DIR] [--synthetic DIR] [--heldout] [--parts P,Q] [--songs OUT.json]");
  const realDir = arg("--real") ?? "eval-set/real";
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1 });
  const songs: (DevSong | { part: "heldout"; json: string; audio: string })[] = devSongs(realDir, arg("--synthetic") ?? "eval-set/synthetic");
  if (process.argv.includes("--heldout")) songs.push(...songsIn(path.join(realDir, "heldout"), "heldout" as const));
  const only = arg("--parts")?.split(",");
  if (only) songs.splice(0, songs.length, ...songs.filter((s) => only.includes(s.part)));
  // train.py keeps every fifth dev-grooves groove (sorted by name) out of training.
  const grooveNames = [...new Set(songs.filter((s) => s.part === "dev-grooves").map((s) => grooveOf(path.basename(s.json, ".json"))))].sort();
  const valGrooves = new Set(grooveNames.filter((_, i) => i % 5 === 0));
  const rows: Record<string, Record<string, SongScore[]>> = {};
  const perSong: unknown[] = [];
  for (const s of songs) {
    const t = JSON.parse(fs.readFileSync(s.json, "utf8")) as Truthish & { id: string; sweep?: boolean };
    if (!t.beats || !fs.existsSync(s.audio)) continue;
    const a = await answers(session, s.audio);
    const row = rowOf(s, t, valGrooves);
    const sc = Object.fromEntries(ANSWERS.map((k) => [k, scoreSong({ ...t, key: null }, { ...a[k], key: undefined })]));
    for (const k of ANSWERS) ((rows[row] ??= {})[k] ??= []).push(sc[k] as SongScore);
    perSong.push({ id: t.id, row, truth: t.bpm, ...Object.fromEntries(ANSWERS.map((k) => [k, { bpm: a[k].bpm, ...sc[k] }])) });
  }
  console.log("| part | songs | answer | tempo Acc1 | Acc2 | beat F | downbeat F | meter |\n|---|---|---|---|---|---|---|---|");
  for (const [row, byAnswer] of Object.entries(rows))
    for (const k of ANSWERS) {
      const x = totals(byAnswer[k] ?? []);
      console.log(`| ${row} | ${x.n} | ${k} | ${pct(x.acc1)} | ${pct(x.acc2)} | ${f3(x.beat)} | ${f3(x.down)} | ${pct(x.meter)} |`);
    }
  const out = arg("--songs");
  if (out) fs.writeFileSync(out, JSON.stringify(perSong, null, 1));
}
