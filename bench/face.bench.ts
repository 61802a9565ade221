/**
 * Face benchmark.
 * 1. Latency on one core: face-api detection of 1-face and ~20-face 1-megapixel photos in
 *    process ("fast" and "accurate" detector modes), and the face.detect JOB path an agent
 *    runs (artifact fetch, decode with the work cap, worker thread, rotation-search check) for
 *    face-api and human-faceres: p50/p90 wall and CPU of the whole process (all threads).
 * 2. Identity on the evaluation sets (scripts/face-eval; built into eval-set/ when missing,
 *    with the cross-photo dev and held-out photos when assemble.ts has laid them out): the
 *    dev calibration of each CPU model's threshold next to the stored one and what it does on
 *    held-out; then per model and set TMR at FMR 0 and at FMR 0.1 %, separately for cross-photo and
 *    variant pairs, the ROC, and mean vs best-of-N for several references. The variant pairs
 *    include the seven augmentations of the old calibration (flip, crop, lighter, darker,
 *    +/-8 degrees, half size) plus six harder ones.
 * 3. Detection count (scripts/face-eval/detect-count.ts, when the held-out split is built): the
 *    photographs, group photos and turned copies whose face.detect count is in the expected range.
 * Run: npm run bench -- face (or node --import tsx bench/face.bench.ts [--latency-only]: the face-api
 * latency rows only, printed, for a quick rerun; the identity evaluation is skipped)
 */
import os from "node:os";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { createRequire } from "node:module";
import sharp, { type OverlayOptions } from "sharp";
import { FaceApiBackend } from "../plugins/face/faceapi-backend.ts";
import facePlugin from "../plugins/face/index.ts";
import { FACEPLUGIN_MODEL } from "../plugins/face/faceplugin/backend.ts";
import { FUSION_MODEL } from "../plugins/face/fusion/backend.ts";
import { fetchFacepluginWeights } from "../plugins/face/faceplugin/fetch-weights.ts";
import { makeTaskContext } from "../test/helpers/task-context.ts";
import { loadFaceApi, wasmFeatures } from "../plugins/face/faceapi-loader.ts";
import { decodeImage } from "../plugins/face/image-decode.ts";
import type { DetectedFace, RgbImage } from "../plugins/face/types.ts";
import fs from "node:fs";
import { buildSet, HELDOUT_VARIANTS } from "../scripts/face-eval/build.ts";
import { calibrate } from "../scripts/face-eval/calibrate.ts";
import { CACHE_DIR, evaluateModel, reportLines, type ModelEval } from "../scripts/face-eval/evaluate.ts";
import { MODEL_THRESHOLDS } from "../core/characters/thresholds.ts";
import { DEFAULT_SET_DIR, readManifest } from "../scripts/face-eval/manifest.ts";
import { detectCount } from "../scripts/face-eval/detect-count.ts";

sharp.concurrency(1);
const require = createRequire(import.meta.url);
const DEMO = path.join(path.dirname(require.resolve("@vladmandic/face-api/package.json")), "demo");
const photos = [1, 2, 3, 4, 5, 6].map((i) => path.join(DEMO, `sample${i}.jpg`));

/** Default ("fast": TinyFaceDetector, SSD fallback) and "accurate" (SSD always, the old path). */
const backend = await FaceApiBackend.create();
const accurate = await FaceApiBackend.create({ detector: "accurate" });
const wasm = await wasmFeatures(await loadFaceApi());
/**
 * Median wall time and median CPU time (user+system of this process) per call. The work is
 * single-threaded (tfjs-wasm without threads, sharp concurrency 1), so CPU time is the
 * one-core cost even when other processes share the machine and inflate wall time.
 */
interface Timing {
  wall: number;
  cpu: number;
}
const ms = async (fn: () => Promise<unknown>, runs = 5): Promise<Timing> => {
  const wall: number[] = [];
  const cpu: number[] = [];
  await fn(); // warm-up
  for (let i = 0; i < runs; i++) {
    const c = process.cpuUsage();
    const s = performance.now();
    await fn();
    wall.push(performance.now() - s);
    const d = process.cpuUsage(c);
    cpu.push((d.user + d.system) / 1000);
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return { wall: med(wall), cpu: med(cpu) };
};
const fmt = (t: Timing) => `${t.wall.toFixed(0)} | ${t.cpu.toFixed(0)}`;
const raw = (img: RgbImage) => sharp(Buffer.from(img.data), { raw: { width: img.width, height: img.height, channels: 3 } });

// All faces in the shipped photos.
interface Face {
  photo: number;
  face: DetectedFace;
  image: RgbImage;
}
const faces: Face[] = [];
for (const [p, file] of photos.entries()) {
  const image = await decodeImage(file);
  for (const face of await backend.detect(image)) faces.push({ photo: p, face, image });
}

/** A region around a face (2x the box), as an encoded PNG. */
async function region(f: Face, grow = 2): Promise<Buffer> {
  const [x1, y1, x2, y2] = f.face.bbox;
  const cx = (x1 + x2) / 2,
    cy = (y1 + y2) / 2,
    s = Math.max(x2 - x1, y2 - y1) * grow;
  const left = Math.max(0, Math.round(cx - s / 2)),
    top = Math.max(0, Math.round(cy - s / 2));
  const width = Math.min(f.image.width - left, Math.round(s)),
    height = Math.min(f.image.height - top, Math.round(s));
  return raw(f.image).extract({ left, top, width, height }).png().toBuffer();
}

// ---- latency ----
// One face: the region around a face (3x its box) as a 1000x1000 photo.
const singlePng = await sharp(await region(faces[6]!, 3))
  .resize(1000, 1000, { fit: "cover" })
  .png()
  .toBuffer();
const single = await decodeImage(singlePng);
const singleRep = await backend.detectReport(single);
const singleFaces = singleRep.faces;
const tDetect1 = await ms(() => backend.detect(single, undefined, { landmarks: false }));
const tDetectLm1 = await ms(() => backend.detect(single));
const tEmbed1 = await ms(async () => {
  const f = await backend.detect(single);
  if (f[0]) await backend.embed(single, f[0]);
});
const singleAcc = await accurate.detect(single);

// The job path an agent runs for /face/detect: artifact fetch, JPEG decode (work cap), the
// face-api worker thread (copy in, Tiny + landmarks, copy out), rotation-search check,
// result mapping. 25 runs; p50 and p90 of wall time, and process CPU (all threads) per job.
const jobCtx = makeTaskContext();
await facePlugin.init!({ logger: jobCtx.logger, modelsDir: jobCtx.modelsDir, config: {}, gpus: [] });
await jobCtx.artifacts.put("bench/1mp.jpg", await sharp(singlePng).jpeg({ quality: 90 }).toBuffer());
let jobN = 0;
const runJob = () => facePlugin.run({ job_id: `b${++jobN}`, type: "face.detect", params: { image: "bench/1mp.jpg" }, attempt: 1 }, jobCtx);
const jobFirst = await runJob();
async function jobLoop(runs: number): Promise<{ wall: number[]; cpu: number[] }> {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const c = process.cpuUsage();
    const s = performance.now();
    await runJob();
    wall.push(performance.now() - s);
    const d = process.cpuUsage(c);
    cpu.push((d.user + d.system) / 1000);
  }
  return { wall, cpu };
}
if (process.env.FACE_BENCH_JOB_ONLY === "1") {
  // Child mode (below): only the job loop, as JSON.
  console.log(JSON.stringify(await jobLoop(25)));
  jobCtx.cleanup();
  process.exit(0);
}
const { wall: jobWall, cpu: jobCpu } = await jobLoop(25);
// The same job over many different one-face photos: every demo face at 3x its box as a 1000x1000
// JPEG, one job each. The single photo above pays what its own Tiny score asks; across photos
// the rotation search's half-turn check (half-turn.ts: 0, 1 or 2 BlazeFace passes) shows.
const manyWall: number[] = [];
const manyCpu: number[] = [];
let manyTurned = 0;
for (const [i, f] of faces.entries()) {
  const jpeg = await sharp(await region(f, 3))
    .resize(1000, 1000, { fit: "cover" })
    .jpeg({ quality: 90 })
    .toBuffer();
  await jobCtx.artifacts.put(`bench/many-${i}.jpg`, jpeg);
  const c = process.cpuUsage();
  const s = performance.now();
  const r = await facePlugin.run({ job_id: `m${i}`, type: "face.detect", params: { image: `bench/many-${i}.jpg` }, attempt: 1 }, jobCtx);
  manyWall.push(performance.now() - s);
  const d = process.cpuUsage(c);
  manyCpu.push((d.user + d.system) / 1000);
  if (r.rotation !== 0) manyTurned++;
}
/**
 * Wall time as on an idle core. This 2-core machine is shared (load averages of 10-30 while
 * others build and test), so plain wall time mostly measures the queue for a core. As root,
 * the same job loop runs once more in a child at real-time round-robin priority (chrt -r 10),
 * which gets a core when it is runnable, like a process on an idle machine; the loop takes
 * ~3 s, so the others lose little. Absent chrt or root, the row says so.
 */
async function idleCoreJobs(): Promise<{ wall: number[]; cpu: number[] } | string> {
  // Opt-in since December 2026: real-time priority on a shared box can starve everyone else
  // (a chrt -f run livelocked it); on an idle machine the plain p50 above is the figure.
  if (process.env.FACE_BENCH_RT !== "1") return "not run (FACE_BENCH_RT=1 runs it at real-time priority)";
  if (process.getuid?.() !== 0) return "not root: no real-time priority";
  try {
    const { stdout } = await promisify(execFile)("chrt", ["-r", "10", process.execPath, "--import", "tsx", fileURLToPath(import.meta.url)], {
      env: { ...process.env, FACE_BENCH_JOB_ONLY: "1" },
      timeout: 180_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    const last = stdout.trim().split("\n").pop() ?? "";
    return JSON.parse(last) as { wall: number[]; cpu: number[] };
  } catch (err) {
    return `real-time run failed: ${(err as Error).message.split("\n")[0]}`;
  }
}
const idleJobs = await idleCoreJobs();
// The same job with human-faceres (blazeface + mesh + faceres in its worker).
const humanFirst = await facePlugin.run({ job_id: "hb0", type: "face.detect", params: { image: "bench/1mp.jpg", model: "human-faceres" }, attempt: 1 }, jobCtx);
const humanWall: number[] = [];
const humanCpu: number[] = [];
for (let i = 0; i < 10; i++) {
  const c = process.cpuUsage();
  const s = performance.now();
  await facePlugin.run({ job_id: `hb${i + 1}`, type: "face.detect", params: { image: "bench/1mp.jpg", model: "human-faceres" }, attempt: 1 }, jobCtx);
  humanWall.push(performance.now() - s);
  const d = process.cpuUsage(c);
  humanCpu.push((d.user + d.system) / 1000);
}
// face.embed jobs (detect + embed of the largest face): human-faceres against faceplugin-fr
// (the same detector and landmarks, then alignment and the 512-d ONNX descriptor).
await fetchFacepluginWeights(jobCtx.modelsDir);
const embedJob: Record<string, { wall: number[]; cpu: number[] }> = {};
for (const model of ["human-faceres", FACEPLUGIN_MODEL, FUSION_MODEL]) {
  const r = (embedJob[model] = { wall: [] as number[], cpu: [] as number[] });
  await facePlugin.run({ job_id: `eb-${model}-0`, type: "face.embed", params: { image: "bench/1mp.jpg", model }, attempt: 1 }, jobCtx);
  for (let i = 0; i < 10; i++) {
    const c = process.cpuUsage();
    const s = performance.now();
    await facePlugin.run({ job_id: `eb-${model}-${i + 1}`, type: "face.embed", params: { image: "bench/1mp.jpg", model }, attempt: 1 }, jobCtx);
    r.wall.push(performance.now() - s);
    const d = process.cpuUsage(c);
    r.cpu.push((d.user + d.system) / 1000);
  }
}
const pq = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
jobCtx.cleanup();
const tDetectLm1Acc = await ms(() => accurate.detect(single));

// ~20 faces: 20 face regions (1.6x box, 170 px) on a 1150x920 (~1.06 Mpx) canvas, 5 x 4 grid.
const tiles: OverlayOptions[] = [];
for (let i = 0; i < 20; i++) {
  const f = faces[i % faces.length]!;
  const png = await sharp(await region(f, 1.6))
    .resize(170, 170, { fit: "cover" })
    .png()
    .toBuffer();
  tiles.push({ input: png, left: 20 + (i % 5) * 225, top: 20 + Math.floor(i / 5) * 225 });
}
const groupPng = await sharp({ create: { width: 1150, height: 920, channels: 3, background: "#6a6a6a" } })
  .composite(tiles)
  .png()
  .toBuffer();
const group = await decodeImage(groupPng);
const groupRep = await backend.detectReport(group);
const groupFaces = groupRep.faces;
const tDetect20 = await ms(() => backend.detect(group, undefined, { landmarks: false }), 3);
const tDetectLm20 = await ms(() => backend.detect(group), 3);
const groupAcc = await accurate.detect(group);
const tDetectLm20Acc = await ms(() => accurate.detect(group), 3);

const out: string[] = [];
out.push("# Face benchmark (face-api on tfjs-wasm, one core)", "");
out.push(
  `load average at start: ${os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(", ")} on ${os.cpus().length} cores; wasm SIMD ${wasm.simd}, threads ${wasm.threads}`,
  "",
);
out.push("| case | detector mode (net that ran) | image | faces found | median wall ms | median CPU ms | target |", "|---|---|---|---|---|---|---|");
const d1 = `fast (${singleRep.detector})`,
  d20 = `fast (${groupRep.detector})`;
out.push(`| detect, 1 face, no landmarks | ${d1} | ${single.width}x${single.height} | ${singleFaces.length} | ${fmt(tDetect1)} | <= 300 |`);
out.push(`| detect, 1 face, with landmarks | ${d1} | ${single.width}x${single.height} | ${singleFaces.length} | ${fmt(tDetectLm1)} | <= 300 |`);
out.push(`| detect, 1 face, with landmarks | accurate (ssd_mobilenetv1) | ${single.width}x${single.height} | ${singleAcc.length} | ${fmt(tDetectLm1Acc)} | |`);
out.push(
  `| face.detect job, face-api, at the shared machine's load (JPEG, worker thread, p50 of 25; p90 wall ${pq(jobWall, 0.9).toFixed(0)}) | fast (${String(jobFirst.detector)}) | ${single.width}x${single.height} | ${String(jobFirst.face_count)} | ${pq(jobWall, 0.5).toFixed(0)} | ${pq(jobCpu, 0.5).toFixed(0)} | <= 150 |`,
);
out.push(
  typeof idleJobs === "string"
    ? `| face.detect job, face-api, idle-core equivalent (real-time priority) | | | | ${idleJobs} | | <= 150 |`
    : `| **face.detect job**, face-api, idle-core equivalent (chrt -r 10 child, p50 of 25; p90 wall ${pq(idleJobs.wall, 0.9).toFixed(0)}) | fast (${String(jobFirst.detector)}) | ${single.width}x${single.height} | ${String(jobFirst.face_count)} | ${pq(idleJobs.wall, 0.5).toFixed(0)} | ${pq(idleJobs.cpu, 0.5).toFixed(0)} | <= 150 |`,
);
out.push(
  `| face.detect job, face-api, ${faces.length} different one-face photos (the demo faces at 3x, one job each, p50 over photos; p90 wall ${pq(manyWall, 0.9).toFixed(0)}; answered turned: ${manyTurned}) | fast | 1000x1000 | 1 each | ${pq(manyWall, 0.5).toFixed(0)} | ${pq(manyCpu, 0.5).toFixed(0)} | <= 150 |`,
);
out.push(
  `| face.detect job, human-faceres (detector + mesh + descriptor, p50 of 10) | ${String(humanFirst.detector)} | ${single.width}x${single.height} | ${String(humanFirst.face_count)} | ${pq(humanWall, 0.5).toFixed(0)} | ${pq(humanCpu, 0.5).toFixed(0)} | |`,
);
for (const [model, r] of Object.entries(embedJob))
  out.push(
    `| face.embed job, ${model} (detect + embed of the largest face, p50 of 10) | blazeface | ${single.width}x${single.height} | 1 | ${pq(r.wall, 0.5).toFixed(0)} | ${pq(r.cpu, 0.5).toFixed(0)} | |`,
  );
out.push(`| detect + embed, 1 face | ${d1} | ${single.width}x${single.height} | ${singleFaces.length} | ${fmt(tEmbed1)} | |`);
out.push(`| detect, 20 faces, no landmarks | ${d20} | ${group.width}x${group.height} | ${groupFaces.length}/20 | ${fmt(tDetect20)} | |`);
out.push(`| detect, 20 faces, with landmarks | ${d20} | ${group.width}x${group.height} | ${groupFaces.length}/20 | ${fmt(tDetectLm20)} | |`);
out.push(
  `| detect, 20 faces, with landmarks | accurate (ssd_mobilenetv1) | ${group.width}x${group.height} | ${groupAcc.length}/20 | ${fmt(tDetectLm20Acc)} | |`,
);
if (process.argv.includes("--latency-only")) {
  // Timing only (the identity and count parts below take an hour on a cold cache).
  console.log(out.join("\n"));
  process.exit(0);
}

// ---- identity on the evaluation sets ----
// dev: the shipped demo faces and their variants plus the assembled cross-photo dev photos
// (scripts/face-eval/assemble.ts); held-out: the other assembled split, reported, never tuned on.
const PHOTOS = path.join(DEFAULT_SET_DIR, "photos");
const HELDOUT_DIR = path.join(DEFAULT_SET_DIR, "heldout");
const has = (d: string) => fs.existsSync(path.join(PHOTOS, d));
if (!readManifest()) await buildSet(DEFAULT_SET_DIR, has("dev") ? [path.join(PHOTOS, "dev")] : []);
if (!readManifest(HELDOUT_DIR) && has("heldout"))
  await buildSet(HELDOUT_DIR, [path.join(PHOTOS, "heldout")], { demo: false, addedVariants: [...HELDOUT_VARIANTS] });
const manifest = readManifest()!;
const heldout = readManifest(HELDOUT_DIR);
const MODELS = ["face-api", "human-faceres", FACEPLUGIN_MODEL, FUSION_MODEL];
const evals: ModelEval[] = [];
const heldEvals: ModelEval[] = [];
for (const model of MODELS) {
  const cache = path.join(CACHE_DIR, `${model}.json`);
  evals.push(await evaluateModel(model, DEFAULT_SET_DIR, cache));
  if (heldout) heldEvals.push(await evaluateModel(model, HELDOUT_DIR, cache));
}

out.push(
  "",
  "### Identity on the evaluation sets",
  "",
  `Sets (scripts/face-eval/README.md): dev = ${manifest.description}; held-out = ${heldout ? heldout.description : "not built (run scripts/face-eval/assemble.ts first)"}. TMR counts a genuine pair as a non-match when no face was found in one of its images. FMR 0.1 % allows floor(0.001 x impostor pairs) false matches. The stored threshold (core/characters/thresholds.ts) is the dev calibration below; on held-out it is applied as is. Embeddings are cached per image bytes in eval-set/cache/<model>.json (made by the same face.embed job path; delete the folder to embed everything again).`,
  "",
);
out.push(
  "| model | dev: calibrated threshold (FMR 0.1 %, 0.001 grid) | dev FMR-0 point | stored | dev TMR cross-photo / variant at stored | held-out TMR cross-photo / variant at stored | held-out FMR at stored (false / impostor pairs) |",
  "|---|---|---|---|---|---|---|",
);
const pc = (x: number) => (Number.isNaN(x) ? "n/a" : `${(x * 100).toFixed(1)}%`);
const pf = (x: number) => (Number.isNaN(x) ? "n/a" : `${(x * 100).toFixed(3)}%`); // FMRs live around 0.1 %
for (const [i, e] of evals.entries()) {
  const c = calibrate(e.scores);
  const z = calibrate(e.scores, 0);
  const stored = MODEL_THRESHOLDS[e.model]?.threshold ?? NaN;
  const h = heldEvals[i];
  const at = (xs: number[]) => (xs.length ? xs.filter((x) => x >= stored).length / xs.length : NaN);
  const falses = h ? h.scores.impostor.filter((x) => x >= stored).length : 0;
  out.push(
    `| ${e.model} | ${c.threshold.toFixed(3)} (dev FMR ${pf(c.fmr)}) | ${z.threshold.toFixed(3)} (TMR cross-photo ${pc(z.tmrCrossPhoto)}) | ${stored} | ${pc(at(e.scores.cross_photo))} / ${pc(at(e.scores.variant))} | ${h ? `${pc(at(h.scores.cross_photo))} / ${pc(at(h.scores.variant))}` : "n/a"} | ${h ? `${pf(falses / Math.max(1, h.scores.impostor.length))} (${falses} / ${h.scores.impostor.length})` : "n/a"} |`,
  );
}
out.push("");
for (const e of evals) out.push(...reportLines(e, `dev: ${manifest.description}`), "");
if (heldout)
  for (const e of heldEvals)
    out.push(...reportLines(e, `held-out: ${heldout.description}`).map((l) => l.replace("on the evaluation set", "on the held-out set")), "");
// Detection in range (issue 13's >= 99 %): needs both splits' photographs and the group photos' snapshots (assemble.ts's mirrors).
if (heldout) out.push("### Detection count on the evaluation sets", "", (await detectCount()).report, "");
const idleP50 = typeof idleJobs === "string" ? NaN : pq(idleJobs.wall, 0.5);
// Without the real-time run, the plain p50 decides: it is the idle figure when the machine is idle (load average below).
const p50 = Number.isNaN(idleP50) ? pq(jobWall, 0.5) : idleP50;
out.push(
  `target: face.detect job p50 <= 150 ms: ${p50 <= 150 ? "met" : "NOT met"} in wall time (${Number.isNaN(idleP50) ? "plain run" : "idle-core equivalent, real-time priority"}: p50 ${p50.toFixed(0)} ms); at this machine's load (${os.loadavg()[0]!.toFixed(1)} now) p50 ${pq(jobWall, 0.5).toFixed(0)} ms wall; one-core CPU p50 ${pq(jobCpu, 0.5).toFixed(0)} ms`,
);
console.log(out.join("\n"));
