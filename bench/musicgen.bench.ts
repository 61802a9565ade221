/**
 * MusicGen benchmark, on the tiny stand-in export the tests build
 * (test/fixtures/musicgen/tiny-musicgen.ts: 2-layer, 64-code stand-in, NOT the real model).
 *
 * What it measures: the pipeline's own cost around the model calls, per 30 s and per
 * 120 s of audio: tokenising, the token loop's bookkeeping (tensors, cache hand-over, delay
 * pattern, guidance, seeded sampling), EnCodec segment joins, and ffmpeg's mp3 + wav
 * encoding and the artifact-store writes. Method: the job runs through the plugin's
 * runMusicGenerate with the sessions wrapped so every session.run() is timed; overhead =
 * job wall time - time inside session.run(). Median of 3 runs after a warm-up.
 * The stand-in's sampling is over 64 codes; the real models sample from 2048 with
 * top_k 250, so the sampler is also timed alone at the real sizes (4 codebooks, guidance on,
 * one step per 20 ms frame) and that row is the overhead the real model adds on top.
 * The steps/s row is the stand-in's decoder speed, not the real model's.
 * Run: node --import tsx bench/musicgen.bench.ts
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runMusicGenerate } from "../plugins/musicgen/index.ts";
import { loadMusicgen, type MusicgenHandle, type Session } from "../plugins/musicgen/model.ts";
import { CodeSampler, seededRng } from "../plugins/musicgen/sampler.ts";
import { buildTinyMusicgen } from "../test/fixtures/musicgen/tiny-musicgen.ts";
import { makeTaskContext } from "../test/helpers/task-context.ts";

const modelsDir = fs.mkdtempSync(path.join(os.tmpdir(), "nb-musicgen-bench-"));
buildTinyMusicgen(modelsDir, "musicgen-small");

let inModel = 0;
let calls = 0;
function timed(s: Session): Session {
  return new Proxy(s, {
    get(target, key) {
      if (key === "run") {
        return async (feeds: Parameters<Session["run"]>[0]) => {
          const t = performance.now();
          try {
            return await target.run(feeds);
          } finally {
            inModel += performance.now() - t;
            calls++;
          }
        };
      }
      const v: unknown = Reflect.get(target, key, target);
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

const t0 = performance.now();
const base = await loadMusicgen("musicgen-small", { modelsDir });
const loadMs = performance.now() - t0;
const h: MusicgenHandle = Object.assign(Object.create(null) as MusicgenHandle, base, {
  text: timed(base.text),
  decoder: timed(base.decoder),
  encodec: timed(base.encodec),
});

interface Run {
  wall: number;
  model: number;
  overhead: number;
  loop: number;
  decodeJoin: number;
  encode: number;
  ffmpegCpu: number;
  steps: number;
  calls: number;
}

/** CPU ms of waited-for children (ffmpeg): cutime + cstime from /proc/self/stat (100 ticks/s on Linux). */
function childCpuMs(): number {
  const stat = fs.readFileSync("/proc/self/stat", "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[13]) + Number(fields[14])) * 10;
}
let job = 0;
async function once(duration: number): Promise<Run> {
  const ctx = makeTaskContext({ modelsDir, model: h });
  // Phase boundaries from the plugin's own progress messages, with the model time so far.
  const marks: Record<string, { at: number; model: number }> = {};
  ctx.progress = (_pct, msg) => {
    if (msg === "Decoding audio" || msg === "Encoding mp3 and wav" || msg === "Done") marks[msg] = { at: performance.now(), model: inModel };
  };
  inModel = 0;
  calls = 0;
  const child0 = childCpuMs();
  const t = performance.now();
  const r = await runMusicGenerate(
    {
      job_id: `bench-${++job}`,
      type: "music.generate",
      params: { prompt: "low calm ambient drone", duration, seed: job },
      model: "musicgen-small",
      attempt: 1,
    },
    ctx,
    h,
  );
  const wall = performance.now() - t;
  const ffmpegCpu = childCpuMs() - child0;
  ctx.cleanup();
  const dec = marks["Decoding audio"]!,
    enc = marks["Encoding mp3 and wav"]!,
    done = marks["Done"]!;
  return {
    wall,
    model: inModel,
    overhead: wall - inModel,
    steps: Number(r.tokens),
    calls,
    loop: dec.at - t - dec.model,
    decodeJoin: enc.at - dec.at - (enc.model - dec.model),
    encode: done.at - enc.at,
    ffmpegCpu,
  };
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(duration: number): Promise<Run> {
  await once(duration);
  const runs: Run[] = [];
  for (let i = 0; i < 3; i++) runs.push(await once(duration));
  const pick = (k: keyof Run) => median(runs.map((r) => r[k]));
  return {
    wall: pick("wall"),
    model: pick("model"),
    overhead: pick("overhead"),
    loop: pick("loop"),
    decodeJoin: pick("decodeJoin"),
    encode: pick("encode"),
    ffmpegCpu: pick("ffmpegCpu"),
    steps: runs[0]!.steps,
    calls: runs[0]!.calls,
  };
}

/** The sampler alone at the real models' sizes: 2048 codes, top_k 250, guidance 3, 4 codebooks per step. */
async function realSampling(seconds: number): Promise<{ wall: number; cpu: number }> {
  const V = 2048,
    K = 4,
    steps = seconds * 50 + K - 1;
  const logits = new Float32Array(2 * K * V);
  for (let i = 0; i < logits.length; i++) logits[i] = Math.sin(i * 0.37) * 4;
  const s = new CodeSampler(await seededRng(1), V, { temperature: 1, topK: 250, topP: 0, guidanceScale: 3 });
  for (let k = 0; k < K; k++) s.sample(logits, k * V, (K + k) * V); // warm-up
  const c = process.cpuUsage();
  const t = performance.now();
  for (let j = 0; j < steps; j++) for (let k = 0; k < K; k++) s.sample(logits, k * V, (K + k) * V);
  const d = process.cpuUsage(c);
  return { wall: performance.now() - t, cpu: (d.user + d.system) / 1000 };
}

const load = os
  .loadavg()
  .map((x) => x.toFixed(1))
  .join(", ");
const r30 = await measure(30);
const r120 = await measure(120);
const sampRuns = [await realSampling(30), await realSampling(30), await realSampling(30)];
const samp30 = median(sampRuns.map((r) => r.wall));
const samp30cpu = median(sampRuns.map((r) => r.cpu));
const f = (x: number) => x.toFixed(0);
const rt = (ms: number, s: number) => `${((100 * ms) / 1000 / s).toFixed(2)}%`;

console.log("# MusicGen pipeline (tiny stand-in model, CPU)\n");
console.log(
  `load average at start: ${load} on ${os.cpus().length} cores; stand-in model load ${f(loadMs)} ms; guidance 3, top_k 250 (64 codes), default 30 s windows with 10 s context\n`,
);
console.log(
  "| audio | decoder steps | session.run calls | job wall ms | inside model calls ms | pipeline overhead ms | of which: token loop / decode joins / ffmpeg mp3+wav + store | ffmpeg CPU ms | overhead vs realtime | stand-in steps/s |",
);
console.log("|---|---|---|---|---|---|---|---|---|---|");
for (const [s, r] of [
  [30, r30],
  [120, r120],
] as const) {
  console.log(
    `| ${s} s | ${r.steps} | ${r.calls} | ${f(r.wall)} | ${f(r.model)} | ${f(r.overhead)} | ${f(r.loop)} / ${f(r.decodeJoin)} / ${f(r.encode)} | ${f(r.ffmpegCpu)} | ${rt(r.overhead, s)} | ${f((1000 * r.steps) / r.model)} |`,
  );
}
console.log(
  `\nSampling alone at the real models' sizes (2048 codes, top_k 250, guidance on, 4 codebooks, ${30 * 50 + 3} steps): ${f(samp30)} ms wall, ${f(samp30cpu)} ms CPU per 30 s of audio (${rt(samp30, 30)} of realtime); it replaces the stand-in's 64-code sampling inside the overhead above.`,
);
console.log(
  "\nWall times include waiting for the CPU: compare the load average above with the machine's cores. ffmpeg runs as a child process, so its time is in the last overhead part.",
);
console.log(
  "\nThe steps/s column is the stand-in decoder's speed on this CPU, not MusicGen's: real small/medium decoders are 300M/1.5B parameters and their speed depends on the GPU.",
);
fs.rmSync(modelsDir, { recursive: true, force: true });
await base.dispose();
