/**
 * Fits the bar-position weights of the downbeat model (plugins/audio/dsp/downbeats.ts):
 * for each bar length m (2: 6/8, 3: 3/4, 4: 4/4 and 12/8) a weight per bar position and
 * cue (bar-cues.ts). Training songs: the synthetic set and the real-instrument dev set,
 * analysed as the service does (tracked beats, not the truth's), keeping the songs whose
 * tempo and beats are right (the phase is only defined there). The label of a song is the
 * bar phase of its tracked beats read off the MIDI downbeats; the model is a conditional
 * logit over the m phases, each phase scored by Σ_i Σ_k w[(i - p) mod m][k]·cue_k[i] / bars.
 * Prints cross-validated phase accuracy (folds by groove: a song's tempo variants are
 * never split between training and test) against the rule it replaces (harmonic change
 * + kick on position 0), then writes plugins/audio/dsp/bar-position-weights.ts.
 * The held-out set is never read here.
 * CLI: node --import tsx scripts/audio-eval/fit-downbeat.ts [--synthetic DIR] [--real DIR] [--dry-run]
 * (FIT_CACHE=DIR keeps each song's cues between runs.)
 */
import fs from "node:fs";
import path from "node:path";
import { generateSet } from "./generate.ts";
import { buildRealSet } from "./real-set.ts";
import { decodeAudio } from "../../plugins/audio/decode.ts";
import { analyzePcm } from "../../plugins/audio/analyze.ts";
import { frameFeatures } from "../../plugins/audio/dsp/features.ts";
import { chromagram } from "../../plugins/audio/dsp/chroma.ts";
import { percussiveOnsets } from "../../plugins/audio/dsp/percussive.ts";
import { barCues, CUE_NAMES } from "../../plugins/audio/dsp/bar-cues.ts";
import { positionScores } from "../../plugins/audio/dsp/downbeats.ts";
import { beatF, tempoAcc1 } from "../../plugins/audio/eval/metrics.ts";

const SR = 22050;
const K = CUE_NAMES.length;

export interface PhaseExample {
  id: string;
  group: string;
  m: number;
  /** Per-beat cues of the tracked beats, cues[k][i]. */
  cues: number[][];
  label: number;
}

interface SongRef {
  id: string;
  mp3: string;
  truth: { bpm: number; beats: number[]; downbeats: number[]; time_signature: string | null };
}

const barLength = (ts: string | null) => (ts === "3/4" ? 3 : ts === "6/8" ? 2 : ts === null ? 0 : 4);

/** The bar phase of tracked beats: the p for which most matched beats sit at truth position (i - p) mod m. */
export function phaseLabel(tracked: number[], truthBeats: number[], truthDown: number[], m: number): number | null {
  const isDown = truthBeats.map((b) => truthDown.some((d) => Math.abs(d - b) < 0.03));
  const d0 = isDown.indexOf(true);
  if (d0 < 0 || truthBeats.length < 2) return null;
  const ibi = (truthBeats[truthBeats.length - 1]! - truthBeats[0]!) / (truthBeats.length - 1);
  const votes = new Array<number>(m).fill(0);
  let j = 0;
  tracked.forEach((t, i) => {
    while (j + 1 < truthBeats.length && Math.abs(truthBeats[j + 1]! - t) <= Math.abs(truthBeats[j]! - t)) j++;
    if (Math.abs(truthBeats[j]! - t) > 0.25 * ibi) return;
    const pos = (((j - d0) % m) + m) % m;
    votes[(((i - pos) % m) + m) % m]!++;
  });
  const best = votes.indexOf(Math.max(...votes));
  return votes[best]! >= 0.6 * tracked.length ? best : null;
}

export async function phaseExamples(songs: SongRef[]): Promise<{ ex: PhaseExample[]; skipped: string[] }> {
  const ex: PhaseExample[] = [];
  const skipped: string[] = [];
  const cacheDir = process.env.FIT_CACHE;
  for (const s of songs) {
    const m = barLength(s.truth.time_signature);
    const group = s.id.replace(/-x[0-9.]+$/, "");
    const cached = cacheDir ? path.join(cacheDir, `${s.id}.json`) : null;
    let data: { beats: number[]; bpm: number | null; cues: number[][] } | null = null;
    if (cached && fs.existsSync(cached)) data = JSON.parse(fs.readFileSync(cached, "utf8"));
    if (!data) {
      const pcm = await decodeAudio(s.mp3, { sampleRate: SR });
      const r = analyzePcm(pcm, SR, { analysisType: "beats" });
      const beats = r.beats ?? [];
      const f = frameFeatures(pcm, SR);
      const cues = beats.length >= 6 ? barCues(f, percussiveOnsets(f), chromagram(pcm, SR), beats).map((c) => Array.from(c, (x) => Math.round(x * 1e4) / 1e4)) : [];
      data = { beats, bpm: r.bpm ?? null, cues };
      if (cached) {
        fs.mkdirSync(path.dirname(cached), { recursive: true });
        fs.writeFileSync(cached, JSON.stringify(data));
      }
    }
    if (m === 0 || !tempoAcc1(s.truth.bpm, data.bpm) || beatF(s.truth.beats, data.beats) < 0.8 || data.cues.length === 0) {
      skipped.push(s.id);
      continue;
    }
    const label = phaseLabel(data.beats, s.truth.beats, s.truth.downbeats, m);
    if (label === null) skipped.push(s.id);
    else ex.push({ id: s.id, group, m, cues: data.cues, label });
  }
  return { ex, skipped };
}

/** F[p][s*K+k]: mean per bar of cue k at the beats of position s when the phase is p. */
function phaseFeatures(e: PhaseExample): number[][] {
  const n = e.cues[0]!.length;
  const bars = Math.max(1, n / e.m);
  const out: number[][] = [];
  for (let p = 0; p < e.m; p++) {
    const f = new Array<number>(e.m * K).fill(0);
    for (let i = 0; i < n; i++) {
      const s = (((i - p) % e.m) + e.m) % e.m;
      for (let k = 0; k < K; k++) f[s * K + k]! += e.cues[k]![i]! / bars;
    }
    out.push(f);
  }
  return out;
}

const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);

export function fitPhase(ex: PhaseExample[], m: number, l2 = Number(process.env.FIT_L2 ?? 0.01), iters = 1500, lr = 0.05): number[] {
  const dim = m * K;
  const data = ex.filter((e) => e.m === m).map((e) => ({ F: phaseFeatures(e), label: e.label }));
  const w = new Array<number>(dim).fill(0);
  const mo = new Array<number>(dim).fill(0);
  const v = new Array<number>(dim).fill(0);
  for (let it = 1; it <= iters && data.length > 0; it++) {
    const g = new Array<number>(dim).fill(0);
    for (const e of data) {
      const s = e.F.map((f) => dot(f, w));
      const mx = Math.max(...s);
      const p = s.map((x) => Math.exp(x - mx));
      const z = p.reduce((a, b) => a + b, 0);
      e.F.forEach((f, i) => {
        const coef = (i === e.label ? 1 : 0) - p[i]! / z;
        for (let d = 0; d < dim; d++) g[d]! += coef * f[d]!;
      });
    }
    for (let d = 0; d < dim; d++) {
      const gd = g[d]! / data.length - l2 * w[d]!;
      mo[d] = 0.9 * mo[d]! + 0.1 * gd;
      v[d] = 0.999 * v[d]! + 0.001 * gd * gd;
      w[d]! += (lr * (mo[d]! / (1 - 0.9 ** it))) / (Math.sqrt(v[d]! / (1 - 0.999 ** it)) + 1e-8);
    }
  }
  return w;
}

const toRows = (w: number[], m: number) => Array.from({ length: m }, (_, s) => w.slice(s * K, (s + 1) * K));

/** Phase the model (or, with null weights, the old rule) picks for a song: the best global phase. */
export function predictPhase(e: PhaseExample, w: number[] | null): number {
  const cues = e.cues.map((c) => Float64Array.from(c));
  const emit = positionScores(cues, e.m, w ? toRows(w, e.m) : null);
  const n = cues[0]!.length;
  const sc = new Array<number>(e.m).fill(0);
  for (let p = 0; p < e.m; p++) for (let i = 0; i < n; i++) sc[p]! += emit[i * e.m + ((((i - p) % e.m) + e.m) % e.m)]!;
  return sc.indexOf(Math.max(...sc));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (n: string) => {
    const i = process.argv.indexOf(n);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const synthDir = arg("--synthetic") ?? path.resolve("eval-set/synthetic");
  const realDir = arg("--real") ?? path.resolve("eval-set/real");
  const synth = generateSet(synthDir, "full").map((s) => ({ id: s.truth.id, mp3: s.mp3Path, truth: s.truth }));
  const real = buildRealSet(realDir, "dev").map((s) => ({ id: s.truth.id, mp3: s.mp3Path, truth: s.truth }));
  const { ex, skipped } = await phaseExamples([...synth, ...real]);
  console.log(`${ex.length} training songs; left out (tempo or beats wrong, or no downbeat truth): ${skipped.join(", ") || "none"}`);
  const groups = [...new Set(ex.map((e) => e.group))];
  const weights: Record<number, number[][]> = {};
  for (const m of [2, 3, 4]) {
    const mine = ex.filter((e) => e.m === m);
    if (mine.length < 3) continue;
    // 5 folds by groove.
    let hits = 0;
    let base = 0;
    for (let k = 0; k < 5; k++) {
      const test = mine.filter((e) => groups.indexOf(e.group) % 5 === k);
      const w = fitPhase(mine.filter((e) => groups.indexOf(e.group) % 5 !== k), m);
      hits += test.filter((e) => predictPhase(e, w) === e.label).length;
      base += test.filter((e) => predictPhase(e, null) === e.label).length;
    }
    const w = fitPhase(mine, m);
    const train = mine.filter((e) => predictPhase(e, w) === e.label).length;
    console.log(`m=${m}: ${mine.length} songs; phase accuracy: previous rule ${base}/${mine.length}, model 5-fold cross-validated ${hits}/${mine.length}, training ${train}/${mine.length}`);
    weights[m] = toRows(w, m);
  }
  console.log(JSON.stringify(weights));
  if (!process.argv.includes("--dry-run")) {
    const file = path.resolve("plugins/audio/dsp/bar-position-weights.ts");
    const rows = Object.entries(weights)
      .map(([m, rs]) => `  ${m}: [\n${rs.map((r) => `    [${r.map((x) => x.toFixed(4)).join(", ")}],`).join("\n")}\n  ],`)
      .join("\n");
    fs.writeFileSync(
      file,
      `/**\n * Weights of the downbeat model (downbeats.ts): for each bar length, one row per bar\n * position (0 = downbeat), one weight per cue in the order of CUE_NAMES (bar-cues.ts).\n * Generated by scripts/audio-eval/fit-downbeat.ts on ${ex.length} songs (synthetic set + real-instrument\n * dev set; held-out set not used).\n */\nexport const BAR_POSITION_WEIGHTS: Record<number, readonly (readonly number[])[]> = {\n${rows}\n};\n`,
    );
    console.log(`wrote ${file}`);
  }
}
