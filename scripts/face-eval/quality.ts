/**
 * What sets the FMR-0 point, and whether a face-quality gate helps. Reads the caches that
 * embed-meta.ts writes (both fusion parts, the per-image face meta and the aligned crops) and
 * scores the fusion-fr-faceres model (its cosine is w_fr * cos_fr + w_faceres * cos_faceres).
 *
 *   node --import tsx scripts/face-eval/quality.ts --crops DIR [--set DIR] [--gate conf,size,sharp,bright] [--top N]
 *
 * Prints (1) the top impostor pairs and the same-person cross-photo pairs just under the FMR-0
 * threshold with each image's quality signals, and (2) per gate (cut values on the image's
 * detector score, face size in source pixels, sharpness and brightness of the aligned crop):
 * the share of images it refuses and TMR at FMR 0 / 0.1 % with refused pairs counted as
 * misses and with them left out. Without --gate the gates are searched on this set (dev);
 * with --gate the given cuts are scored (held-out, at dev's cuts).
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { FUSION_WEIGHTS } from "../../plugins/face/fusion/backend.ts";
import { cropQuality } from "../../plugins/face/quality.ts";
import { MODEL_THRESHOLDS } from "../../core/characters/thresholds.ts";
import { CACHE_DIR } from "./evaluate.ts";
import type { MetaCache } from "./embed-meta.ts";
import { DEFAULT_SET_DIR, pairsOf, readManifest, type EvalImage } from "./manifest.ts";
import { tmrAtFmr } from "./metrics.ts";

export interface ImageQuality {
  /** Detector score of the face that was embedded. */
  conf: number;
  /** Shorter side of the face box, source pixels. */
  size: number;
  /** Variance of the 4-neighbour Laplacian of the aligned 112x112 grey crop (low: blurred). */
  sharp: number;
  /** Mean grey level of the aligned crop, 0-255 (low: dark). */
  bright: number;
}

export type Gate = ImageQuality;
export const passes = (q: ImageQuality | null, gate: Gate) =>
  !!q && q.conf >= gate.conf && q.size >= gate.size && q.sharp >= gate.sharp && q.bright >= gate.bright;

interface Pair {
  a: number;
  b: number;
  s: number;
}

/** TMR at FMR 0 and 0.1 % for a gate, refused pairs as misses and left out. */
export function gateScores(genuine: readonly Pair[], impostor: readonly Pair[], ok: readonly boolean[]) {
  const keep = (p: Pair) => ok[p.a]! && ok[p.b]!;
  const imp = impostor.filter(keep).map((p) => p.s);
  const gKept = genuine.filter(keep).map((p) => p.s);
  const asMiss = [...gKept, ...Array<number>(genuine.length - gKept.length).fill(-Infinity)];
  return {
    refusedPairs: 1 - gKept.length / Math.max(1, genuine.length),
    miss0: tmrAtFmr(asMiss, imp, 0).tmr,
    miss01: tmrAtFmr(asMiss, imp, 0.001).tmr,
    excl0: tmrAtFmr(gKept, imp, 0).tmr,
    excl01: tmrAtFmr(gKept, imp, 0.001).tmr,
    threshold0: tmrAtFmr(gKept, imp, 0).threshold,
  };
}

const dot = (a: readonly number[], b: readonly number[]) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

export function loadSet(dir: string, cropsDir: string) {
  const manifest = readManifest(dir);
  if (!manifest) throw new Error(`no evaluation set in ${dir}`);
  const read = <T>(f: string) => JSON.parse(fs.readFileSync(path.join(CACHE_DIR, f), "utf8")) as Record<string, T>;
  const fr = read<number[] | null>("faceplugin-fr.json"),
    faceres = read<number[] | null>("human-faceres.json"),
    meta = read<MetaCache[string]>("meta.json");
  const rows = manifest.images.map((im) => {
    const h = createHash("sha256")
      .update(fs.readFileSync(path.join(dir, im.file)))
      .digest("hex");
    const m = meta[h],
      a = fr[h],
      b = faceres[h];
    const cropFile = path.join(cropsDir, `${h}.rgb`);
    if (!m || !a || !b || !fs.existsSync(cropFile)) return { im, fr: null, faceres: null, q: null };
    const c = cropQuality(fs.readFileSync(cropFile));
    const q: ImageQuality = { conf: m.confidence, size: Math.min(m.bbox[2] - m.bbox[0], m.bbox[3] - m.bbox[1]), sharp: c.sharpness, bright: c.brightness };
    return { im, fr: a, faceres: b, q };
  });
  return { manifest, rows };
}

/** Fusion cosine per pair (the farm model's score), genuine split by kind; pairs without a face on one side are misses. */
export function fusionPairs(rows: ReturnType<typeof loadSet>["rows"]) {
  const out = { cross_photo: [] as Pair[], variant: [] as Pair[], impostor: [] as Pair[] };
  for (const p of pairsOf(rows.map((r) => r.im))) {
    const x = rows[p.a]!,
      y = rows[p.b]!;
    const s = x.fr && y.fr && x.faceres && y.faceres ? FUSION_WEIGHTS.fr * dot(x.fr, y.fr) + FUSION_WEIGHTS.faceres * dot(x.faceres, y.faceres) : -Infinity;
    if (p.kind === "impostor" && s === -Infinity) continue;
    out[p.kind].push({ a: p.a, b: p.b, s });
  }
  return out;
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const describe = (im: EvalImage, q: ImageQuality | null) =>
  `${im.identity}/${path.basename(im.file)}${im.variant ? ` [${im.variant}]` : ""} ${q ? `(conf ${q.conf.toFixed(2)}, ${Math.round(q.size)} px, sharp ${Math.round(q.sharp)}, bright ${Math.round(q.bright)})` : "(no face)"}`;

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const arg = (n: string) => (args.includes(n) ? args[args.indexOf(n) + 1] : undefined);
  const dir = path.resolve(arg("--set") ?? DEFAULT_SET_DIR);
  const cropsDir = arg("--crops");
  if (!cropsDir) throw new Error("usage: quality.ts --crops DIR [--set DIR] [--gate conf,size,sharp,bright] [--top N]");
  const top = Number(arg("--top") ?? 12);
  const { rows } = loadSet(dir, cropsDir);
  const pairs = fusionPairs(rows);
  const qs = rows.map((r) => r.q);
  const given = arg("--gate");
  const gate: Gate | undefined = given
    ? (([conf, size, sharp, bright]) => ({ conf: conf!, size: size!, sharp: sharp!, bright: bright! }))(given.split(",").map(Number))
    : undefined;
  // With --gate, the lists show what sets the FMR-0 point once the gate has refused its faces.
  const kept = (p: { a: number; b: number }) => !gate || (passes(qs[p.a]!, gate) && passes(qs[p.b]!, gate));
  const impPairs = pairs.impostor.filter(kept),
    crossPairs = pairs.cross_photo.filter(kept);
  const t0 = tmrAtFmr(
    crossPairs.map((p) => p.s),
    impPairs.map((p) => p.s),
    0,
  ).threshold;
  const stored = MODEL_THRESHOLDS["fusion-fr-faceres"]?.threshold ?? NaN;
  console.log(
    `fusion-fr-faceres${gate ? ` behind the gate ${given}` : ""}: FMR-0 threshold ${t0.toFixed(3)}, stored ${stored}; ${impPairs.length} impostor pairs`,
  );
  console.log(`\nTop ${top} impostor pairs:`);
  for (const p of [...impPairs].sort((x, y) => y.s - x.s).slice(0, top))
    console.log(`  ${p.s.toFixed(3)}  ${describe(rows[p.a]!.im, rows[p.a]!.q)}  x  ${describe(rows[p.b]!.im, rows[p.b]!.q)}`);
  console.log(
    `\nCross-photo same-person pairs under the FMR-0 threshold, highest first (${crossPairs.filter((p) => p.s < t0).length} of ${crossPairs.length}):`,
  );
  for (const p of crossPairs
    .filter((x) => x.s < t0)
    .sort((x, y) => y.s - x.s)
    .slice(0, top))
    console.log(`  ${p.s === -Infinity ? "  none" : p.s.toFixed(3)}  ${describe(rows[p.a]!.im, rows[p.a]!.q)}  x  ${describe(rows[p.b]!.im, rows[p.b]!.q)}`);
  const head =
    "| gate (conf, size px, sharp, bright) | images refused | genuine pairs refused: cross / variant | refused = miss, FMR 0: cross / variant | FMR 0.1 % | refused left out, FMR 0: cross / variant | FMR 0.1 % |\n|---|---|---|---|---|---|---|";
  const line = (g: Gate) => {
    const ok = qs.map((q) => passes(q, g));
    const c = gateScores(pairs.cross_photo, pairs.impostor, ok),
      v = gateScores(pairs.variant, pairs.impostor, ok);
    return {
      c,
      v,
      text: `| ${g.conf}, ${g.size}, ${g.sharp}, ${g.bright} | ${pct(ok.filter((x) => !x).length / ok.length)} | ${pct(c.refusedPairs)} / ${pct(v.refusedPairs)} | ${pct(c.miss0)} / ${pct(v.miss0)} | ${pct(c.miss01)} / ${pct(v.miss01)} | ${pct(c.excl0)} / ${pct(v.excl0)} | ${pct(c.excl01)} / ${pct(v.excl01)} |`,
    };
  };
  console.log(`\n${head}`);
  console.log(line({ conf: 0, size: 0, sharp: 0, bright: 0 }).text);
  if (gate) console.log(line(gate).text);
  else {
    // One feature at a time, then the best of a small grid, ranked by cross-photo TMR at FMR 0 with refused pairs as misses.
    const cuts = { conf: [0, 0.6, 0.7, 0.8, 0.9], size: [0, 24, 32, 48, 64], sharp: [0, 10, 20, 40, 80], bright: [0, 30, 45, 60, 75] };
    for (const k of Object.keys(cuts) as (keyof Gate)[])
      for (const x of cuts[k].slice(1)) console.log(line({ conf: 0, size: 0, sharp: 0, bright: 0, [k]: x }).text);
    const all: { g: Gate; score: number; text: string }[] = [];
    for (const conf of cuts.conf)
      for (const size of cuts.size)
        for (const sharp of cuts.sharp)
          for (const bright of cuts.bright) {
            const g = { conf, size, sharp, bright };
            const r = line(g);
            all.push({ g, score: r.c.miss0 + r.v.miss0, text: r.text });
          }
    console.log("\nBest gates on this set (cross-photo + variant TMR at FMR 0, refused = miss):");
    for (const x of all.sort((a, b) => b.score - a.score).slice(0, 8)) console.log(x.text);
  }
}
