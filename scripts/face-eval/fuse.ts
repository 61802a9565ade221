/**
 * Score fusion of two face models, measured offline from saved embeddings (evaluate.ts --save).
 * Each model's cosine is z-normalised by its impostor mean and spread on the dev split, and the
 * two are summed. A unit embedding made of the two unit embeddings concatenated with weights
 * sqrt(w1), sqrt(w2) (w = 1/sd, normalised) has cosine w1*c1 + w2*c2, the same ordering as the
 * z-sum, which is how a fused model would run in the farm (one vector, one threshold).
 *
 *   node --import tsx scripts/face-eval/fuse.ts --dev DIR A.json B.json [--held DIR A.json B.json]
 * prints, per model and for the fusion: TMR at FMR 0 and at FMR 0.1 %, cross-photo and variant,
 * the dev-calibrated threshold (calibrate.ts) and, with --held, held-out at dev's weights and threshold.
 */
import fs from "node:fs";
import path from "node:path";
import { cosine } from "../../core/characters/logic.ts";
import { calibrate } from "./calibrate.ts";
import { pairsOf, readManifest, type PairKind } from "./manifest.ts";
import { tmrAtFmr } from "./metrics.ts";

type Emb = readonly (readonly number[] | null)[];
export type Scores = Record<PairKind, number[]>;

/** Cosine per pair of the set, by kind; a genuine pair without a face on one side scores -Infinity (a miss). */
export function pairScores(images: Parameters<typeof pairsOf>[0], emb: Emb): Scores {
  const out: Scores = { cross_photo: [], variant: [], impostor: [] };
  for (const p of pairsOf(images)) {
    const a = emb[p.a],
      b = emb[p.b];
    if (a && b) out[p.kind].push(cosine(a, b));
    else if (p.kind !== "impostor") out[p.kind].push(-Infinity);
  }
  return out;
}

/** Weights of the z-sum from dev impostor scores: w_k proportional to 1 / sd_k, summing to 1. */
export function fusionWeights(devImpostors: readonly (readonly number[])[]): number[] {
  const inv = devImpostors.map((xs) => {
    const mu = xs.reduce((s, x) => s + x, 0) / xs.length;
    return 1 / Math.sqrt(xs.reduce((s, x) => s + (x - mu) ** 2, 0) / xs.length);
  });
  const sum = inv.reduce((s, x) => s + x, 0);
  return inv.map((x) => x / sum);
}

/** Fused score per pair: the weighted sum of the models' cosines (missing face: -Infinity). */
export function fusedScores(images: Parameters<typeof pairsOf>[0], embs: readonly Emb[], weights: readonly number[]): Scores {
  const out: Scores = { cross_photo: [], variant: [], impostor: [] };
  for (const p of pairsOf(images)) {
    let s = 0,
      missing = false;
    embs.forEach((e, k) => {
      const a = e[p.a],
        b = e[p.b];
      if (a && b) s += weights[k]! * cosine(a, b);
      else missing = true;
    });
    if (!missing) out[p.kind].push(s);
    else if (p.kind !== "impostor") out[p.kind].push(-Infinity);
  }
  return out;
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
export function row(name: string, s: Scores, threshold: number): string {
  const at = (xs: number[]) => pct(xs.filter((x) => x >= threshold).length / xs.length);
  const t = (fmr: number) => ["cross_photo", "variant"].map((k) => pct(tmrAtFmr(s[k as PairKind], s.impostor, fmr).tmr)).join(" / ");
  const fm = s.impostor.filter((x) => x >= threshold).length;
  return `| ${name} | ${t(0)} | ${t(0.001)} | ${threshold.toFixed(3)} | ${at(s.cross_photo)} / ${at(s.variant)} | ${pct(fm / s.impostor.length)} (${fm}) |`;
}

/**
 * `<flag> <set dir> <embeddings A> <embeddings B>` from the command line: the set's images
 * and the two models' saved embeddings (evaluate.ts --save), or undefined without the flag.
 */
export function loadSplit(args: readonly string[], flag: string): { images: Parameters<typeof pairsOf>[0]; embs: Emb[]; names: string[] } | undefined {
  const i = args.indexOf(flag);
  if (i < 0) return undefined;
  const m = readManifest(path.resolve(args[i + 1]!));
  if (!m) throw new Error(`no evaluation set in ${args[i + 1]}`);
  const files = [args[i + 2]!, args[i + 3]!];
  return { images: m.images, embs: files.map((f) => JSON.parse(fs.readFileSync(f, "utf8")) as Emb), names: files.map((f) => path.basename(f)) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const load = (flag: string) => loadSplit(args, flag);
  const dev = load("--dev");
  if (!dev) throw new Error("usage: fuse.ts --dev DIR A.json B.json [--held DIR A.json B.json]");
  const held = load("--held");
  const devS = dev.embs.map((e) => pairScores(dev.images, e));
  const w = fusionWeights(devS.map((s) => s.impostor));
  const devF = fusedScores(dev.images, dev.embs, w);
  const thr = [...devS, devF].map((s) => calibrate(s).threshold);
  const head =
    "| model | TMR at FMR 0: cross-photo / variant | at FMR 0.1 % | dev threshold (FMR 0.1 %) | TMR at that threshold | FMR there (false pairs) |\n|---|---|---|---|---|---|";
  console.log(`fusion weights ${w.map((x) => x.toFixed(3)).join(" + ")}\n\ndev\n${head}`);
  dev.names.forEach((n, k) => console.log(row(n, devS[k]!, thr[k]!)));
  console.log(row("z-sum fusion", devF, thr[2]!));
  if (held) {
    console.log(`\nheld-out (dev's weights and thresholds)\n${head}`);
    held.embs.forEach((e, k) => console.log(row(held.names[k]!, pairScores(held.images, e), thr[k]!)));
    console.log(row("z-sum fusion", fusedScores(held.images, held.embs, w), thr[2]!));
  }
}
