/**
 * Scores test-time augmentation and score-level fusion weights from tta.ts's records (fifth
 * pass, CALIBRATION.md). A configuration is, per part, the set of variants whose unit
 * embeddings are averaged (then normalised), and the parts' weights on their cosines (as the
 * fused model applies them: one vector, cosine = sum of w_k x cos_k). The quality gate of the
 * farm (aligned-face brightness >= 30) refuses an image: a refused or faceless image makes its
 * genuine pairs misses and its impostor pairs absent, as verify does.
 *
 * Weights are fitted on dev only, by a grid over the simplex, and cross-validated by identity
 * (crossValidated: K folds of identities, each scored at its own FMR points with weights fitted
 * outside it, against the farm's weights on the same folds). Held-out is scored once, with
 * weights fitted on all of dev, at its own FMR-0 and 0.1 % points (and, for the TTA rows, at
 * dev's FMR-0 threshold). A paired bootstrap by identity says how much of a TTA row's FMR-0
 * gain is chance. `--cv-tta` also cross-validates weights for two TTA configurations.
 *
 *   node --import tsx scripts/face-eval/tta-score.ts --dev DIR dev.json [faceapi-dev.json] --held DIR held.json [faceapi-held.json]
 */
import fs from "node:fs";
import path from "node:path";
import { mulberry32 } from "../audio-eval/rng.ts";
import { FACE_QUALITY_GATE } from "../../core/characters/quality.ts";
import { pairsOf, readManifest, type EvalImage, type PairKind } from "./manifest.ts";
import type { TtaRecord } from "./tta.ts";

type Vec = readonly number[];
export type Part = (Vec | null)[];

/** The normalised mean of unit vectors. */
export function meanUnit(vs: readonly Vec[]): number[] {
  const out = new Array<number>(vs[0]!.length).fill(0);
  for (const v of vs) v.forEach((x, i) => (out[i] = out[i]! + x));
  const n = Math.hypot(...out);
  return out.map((x) => x / n);
}

/** One part's embedding per image: the mean of the named variants; null when refused or faceless. */
export function compose(recs: readonly TtaRecord[], part: "fr" | "faceres", names: readonly string[], minBrightness: number): Part {
  return recs.map((r) => {
    const vs = r[part];
    if (!vs || r.brightness === null || r.brightness < minBrightness) return null;
    return meanUnit(names.map((n) => vs[n]!));
  });
}

const dot = (a: Vec, b: Vec) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

/** Every pair's cosine per part (NaN: a side missing) with its kind and the two identities' indexes. */
export interface PairTable {
  kind: PairKind[];
  idA: Int32Array;
  idB: Int32Array;
  cos: Float64Array[];
}
export function pairTable(images: readonly EvalImage[], parts: readonly Part[]): PairTable {
  const ids = new Map<string, number>();
  const idOf = (s: string) => ids.get(s) ?? (ids.set(s, ids.size), ids.size - 1);
  const pairs = pairsOf(images);
  const t: PairTable = { kind: [], idA: new Int32Array(pairs.length), idB: new Int32Array(pairs.length), cos: parts.map(() => new Float64Array(pairs.length)) };
  pairs.forEach((p, i) => {
    t.kind.push(p.kind);
    t.idA[i] = idOf(images[p.a]!.identity);
    t.idB[i] = idOf(images[p.b]!.identity);
    parts.forEach((e, k) => {
      const a = e[p.a],
        b = e[p.b];
      t.cos[k]![i] = a && b ? dot(a, b) : NaN;
    });
  });
  return t;
}

/**
 * Fused score of pair i. Parts before `required` must be present (they share the detection:
 * missing means no face or refused); an optional part that found no face (face-api) counts at
 * `fill[k]`, its dev impostor mean, so a missing extra part neither helps nor vetoes much.
 */
export function fusedScore(t: PairTable, i: number, w: readonly number[], required: number, fill: readonly number[]): number {
  let s = 0;
  for (let k = 0; k < w.length; k++) {
    let c = t.cos[k]![i]!;
    if (Number.isNaN(c)) {
      if (k < required) return NaN;
      c = fill[k]!;
    }
    s += w[k]! * c;
  }
  return s;
}

export interface Tmr {
  cross0: number;
  var0: number;
  cross1: number;
  var1: number;
  /** Threshold of the FMR-0 point. */
  thr0: number;
}
/** TMR at FMR 0 and 0.1 % from scores (NaN genuine = miss, NaN impostor = left out). */
export function tmrOf(kind: readonly PairKind[], scores: ArrayLike<number>, keep: (i: number) => boolean = () => true): Tmr {
  const g: Record<"cross_photo" | "variant", number[]> = { cross_photo: [], variant: [] };
  const imp: number[] = [];
  for (let i = 0; i < kind.length; i++) {
    if (!keep(i)) continue;
    const s = scores[i]!;
    if (kind[i] === "impostor") {
      if (!Number.isNaN(s)) imp.push(s);
    } else g[kind[i] as "variant"].push(Number.isNaN(s) ? -Infinity : s);
  }
  // One sort of the impostors for both points (the fit calls this for every grid point); same rule as tmrAtFmr.
  const sorted = Float64Array.from(imp).sort().reverse();
  const thrAt = (f: number) => {
    const cut = sorted[Math.floor(f * sorted.length + 1e-9)];
    return cut === undefined ? -1 : cut + 1e-6;
  };
  const t0 = thrAt(0),
    t1 = thrAt(0.001);
  const rate = (xs: number[], t: number) => (xs.length === 0 ? NaN : xs.filter((x) => x >= t).length / xs.length);
  return { cross0: rate(g.cross_photo, t0), var0: rate(g.variant, t0), cross1: rate(g.cross_photo, t1), var1: rate(g.variant, t1), thr0: t0 };
}

/** Points of the simplex on a grid of `step` (weights >= 0, sum 1), `n` parts. */
export function simplex(n: number, step: number): number[][] {
  const m = Math.round(1 / step);
  const out: number[][] = [];
  const rec = (prefix: number[], left: number) => {
    if (prefix.length === n - 1) return void out.push([...prefix, left].map((x) => x / m));
    for (let i = 0; i <= left; i++) rec([...prefix, i], left - i);
  };
  rec([], m);
  return out;
}

/** The fit's objective: TMR at FMR 0 and 0.1 %, cross-photo and variant, summed (a kind without pairs adds 0). */
const objective = (r: Tmr) => [r.cross0, r.cross1, r.var0, r.var1].reduce((s, x) => s + (Number.isNaN(x) ? 0 : x), 0);

export function fitWeights(t: PairTable, grid: readonly number[][], required: number, fill: readonly number[], keep: (i: number) => boolean): number[] {
  let best = grid[0]!,
    bestV = -1;
  const s = new Float64Array(t.kind.length);
  for (const w of grid) {
    for (let i = 0; i < s.length; i++) if (keep(i)) s[i] = fusedScore(t, i, w, required, fill);
    const v = objective(tmrOf(t.kind, s, keep));
    if (v > bestV + 1e-12) [best, bestV] = [w, v];
  }
  return best;
}

/** Identity -> fold (seeded shuffle), K folds. */
export function folds(nIds: number, k: number, seed: number): Int32Array {
  const order = Array.from({ length: nIds }, (_, i) => i);
  const r = mulberry32(seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const f = new Int32Array(nIds);
  order.forEach((id, i) => (f[id] = i % k));
  return f;
}

/**
 * K-fold cross-validation by identity. For each fold, weights are fitted on the pairs whose
 * two identities are both outside it and scored on the pairs whose two identities are both
 * inside it, at that fold's own FMR-0 and FMR-0.1 % points; TMRs are averaged over the folds.
 * `baseline` weights are scored on the same folds, so the two means compare like with like.
 * (Pooling out-of-fold scores of different weightings under one threshold would mix score
 * scales: face-api's strangers sit near cosine 0.84, the others' near 0-0.4.)
 */
export function crossValidated(
  t: PairTable,
  grid: readonly number[][],
  required: number,
  fill: readonly number[],
  baseline: readonly number[],
  k = 5,
  seed = 13,
) {
  let nIds = 0;
  for (let i = 0; i < t.kind.length; i++) nIds = Math.max(nIds, t.idA[i]! + 1, t.idB[i]! + 1);
  const f = folds(nIds, k, seed);
  const weights: number[][] = [];
  const sum = (acc: Tmr, r: Tmr) => ({
    cross0: acc.cross0 + r.cross0 / k,
    var0: acc.var0 + r.var0 / k,
    cross1: acc.cross1 + r.cross1 / k,
    var1: acc.var1 + r.var1 / k,
    thr0: NaN,
  });
  let cv: Tmr = { cross0: 0, var0: 0, cross1: 0, var1: 0, thr0: NaN },
    base = cv;
  const s = new Float64Array(t.kind.length);
  for (let a = 0; a < k; a++) {
    const w = fitWeights(t, grid, required, fill, (i) => f[t.idA[i]!] !== a && f[t.idB[i]!] !== a);
    weights.push(w);
    const test = (i: number) => f[t.idA[i]!] === a && f[t.idB[i]!] === a;
    for (let i = 0; i < s.length; i++) if (test(i)) s[i] = fusedScore(t, i, w, required, fill);
    cv = sum(cv, tmrOf(t.kind, s, test));
    for (let i = 0; i < s.length; i++) if (test(i)) s[i] = fusedScore(t, i, baseline, required, fill);
    base = sum(base, tmrOf(t.kind, s, test));
  }
  return { cv, base, weights };
}

/**
 * How much of a TMR-at-FMR-0 difference between two scorings of the same pairs is chance: a
 * paired bootstrap over identities (the FMR-0 point is one impostor pair, so a few pairs move
 * it). Each replicate draws the identities with replacement; its threshold is just above the
 * highest impostor pair between two drawn identities, and its cross-photo TMR counts each
 * drawn identity's pairs as often as it was drawn. Returns the 2.5 / 50 / 97.5 % points of
 * TMR(b) - TMR(a) and the share of replicates where b is not better.
 */
export function bootstrapFmr0(
  t: PairTable,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  reps = 1000,
  seed = 1,
): { lo: number; mid: number; hi: number; notBetter: number } {
  let n = 0;
  for (let i = 0; i < t.kind.length; i++) n = Math.max(n, t.idA[i]! + 1, t.idB[i]! + 1);
  const prep = (s: ArrayLike<number>) => {
    const maxImp = new Float64Array(n * n).fill(-Infinity);
    const gen: number[][] = Array.from({ length: n }, () => []);
    for (let i = 0; i < t.kind.length; i++) {
      const x = s[i]!;
      if (t.kind[i] === "impostor") {
        if (Number.isNaN(x)) continue;
        const k1 = t.idA[i]! * n + t.idB[i]!,
          k2 = t.idB[i]! * n + t.idA[i]!;
        if (x > maxImp[k1]!) maxImp[k1] = maxImp[k2] = x;
      } else if (t.kind[i] === "cross_photo") gen[t.idA[i]!]!.push(Number.isNaN(x) ? -Infinity : x);
    }
    return { maxImp, gen };
  };
  const A = prep(a),
    B = prep(b);
  const r = mulberry32(seed);
  const counts = new Int32Array(n);
  const tmr = (P: ReturnType<typeof prep>, drawn: number[]) => {
    let thr = -Infinity;
    for (let x = 0; x < drawn.length; x++) for (let y = x + 1; y < drawn.length; y++) thr = Math.max(thr, P.maxImp[drawn[x]! * n + drawn[y]!]!);
    let hit = 0,
      all = 0;
    for (const id of drawn) {
      const g = P.gen[id]!;
      all += counts[id]! * g.length;
      hit += counts[id]! * g.filter((v) => v > thr).length;
    }
    return all === 0 ? 0 : hit / all;
  };
  const d: number[] = [];
  for (let k = 0; k < reps; k++) {
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[Math.floor(r() * n)]!++;
    const drawn = [...counts.keys()].filter((i) => counts[i]! > 0);
    d.push(tmr(B, drawn) - tmr(A, drawn));
  }
  d.sort((x, y) => x - y);
  const q = (p: number) => d[Math.min(d.length - 1, Math.floor(p * d.length))]!;
  return { lo: q(0.025), mid: q(0.5), hi: q(0.975), notBetter: d.filter((x) => x <= 0).length / d.length };
}

const pct = (x: number) => (x * 100).toFixed(1);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const load = (flag: string) => {
    const i = args.indexOf(flag);
    const m = readManifest(path.resolve(args[i + 1]!));
    if (!m) throw new Error(`no evaluation set in ${args[i + 1]}`);
    const recs = JSON.parse(fs.readFileSync(args[i + 2]!, "utf8")) as TtaRecord[];
    const fa = args[i + 3] && !args[i + 3]!.startsWith("--") ? (JSON.parse(fs.readFileSync(args[i + 3]!, "utf8")) as Part) : undefined;
    if (recs.length !== m.images.length) throw new Error(`${args[i + 2]}: ${recs.length} records for ${m.images.length} images`);
    return { images: m.images, recs, fa };
  };
  const dev = load("--dev"),
    held = load("--held");
  const gate = FACE_QUALITY_GATE.min_brightness;
  const ms = (recs: TtaRecord[], key: "job" | "fr" | "faceres") => median(recs.filter((r) => r.ms).map((r) => r.ms![key]));
  const cost = { job: ms(dev.recs, "job"), fr: ms(dev.recs, "fr"), faceres: ms(dev.recs, "faceres") };
  console.log(
    `ms per image (dev medians): face.embed job ${cost.job.toFixed(0)}, one extra fr run ${cost.fr.toFixed(1)}, one extra faceres run ${cost.faceres.toFixed(1)}`,
  );

  const FR: Record<string, string[]> = {
    plain: ["plain"],
    flip: ["plain", "flip"],
    scale3: ["plain", "zin", "zout"],
    shift5: ["plain", "xl", "xr", "yu", "yd"],
    "scale3+flip": ["plain", "flip", "zin", "zout"],
    all8: ["plain", "flip", "zin", "zout", "xl", "xr", "yu", "yd"],
  };
  const RES: Record<string, string[]> = {
    plain: ["plain"],
    flip: ["plain", "flip"],
    scale3: ["plain", "zin", "zout"],
    "scale3+flip": ["plain", "flip", "zin", "zout"],
    all6: ["plain", "flip", "zin", "zout", "xl", "xr"],
  };
  const head =
    "| configuration | ms / image | dev FMR 0: cross / var | dev FMR 0.1 % | dev FMR-0 thr | held-out at dev's thr: cross / var (false) | held-out own FMR 0 | held-out FMR 0.1 % |\n|---|---|---|---|---|---|---|---|";
  const line = (name: string, msImg: number, d: Tmr, ht: PairTable, hs: ArrayLike<number>) => {
    const h = tmrOf(ht.kind, hs);
    let fm = 0;
    const at = { cross_photo: [0, 0], variant: [0, 0] };
    for (let i = 0; i < ht.kind.length; i++) {
      const s = hs[i]!;
      if (ht.kind[i] === "impostor") fm += s >= d.thr0 ? 1 : 0;
      else {
        const a = at[ht.kind[i] as "variant"];
        a[1]!++;
        if (s >= d.thr0) a[0]!++;
      }
    }
    const r = (a: number[]) => pct(a[0]! / a[1]!);
    return `| ${name} | ${msImg.toFixed(0)} | ${pct(d.cross0)} / ${pct(d.var0)} | ${pct(d.cross1)} / ${pct(d.var1)} | ${d.thr0.toFixed(3)} | ${r(at.cross_photo)} / ${r(at.variant)} (${fm}) | ${pct(h.cross0)} / ${pct(h.var0)} | ${pct(h.cross1)} / ${pct(h.var1)} |`;
  };
  const scoresOf = (t: PairTable, w: number[], req: number, fill: number[]) => Float64Array.from(t.kind, (_, i) => fusedScore(t, i, w, req, fill));

  // 1. TTA per part and fused (the farm's 1/sd weights refitted per configuration's dev impostors).
  console.log(`\nTTA (gate brightness >= ${gate}); fused = 1/sd weights of dev impostor cosines\n${head}`);
  const sdOf = (t: PairTable, k: number) => {
    const xs: number[] = [];
    for (let i = 0; i < t.kind.length; i++) if (t.kind[i] === "impostor" && !Number.isNaN(t.cos[k]![i]!)) xs.push(t.cos[k]![i]!);
    const mu = xs.reduce((s, x) => s + x, 0) / xs.length;
    return { mu, sd: Math.sqrt(xs.reduce((s, x) => s + (x - mu) ** 2, 0) / xs.length) };
  };
  const configs: [string, string][] = [
    ["plain", "plain"],
    ["flip", "plain"],
    ["plain", "flip"],
    ["flip", "flip"],
    ["scale3", "plain"],
    ["shift5", "plain"],
    ["scale3+flip", "plain"],
    ["all8", "plain"],
    ["plain", "scale3"],
    ["plain", "scale3+flip"],
    ["plain", "all6"],
    ["scale3+flip", "scale3+flip"],
    ["all8", "all6"],
  ];
  const tables = new Map<string, { d: PairTable; h: PairTable }>();
  for (const [fr, res] of configs) {
    const d = pairTable(dev.images, [compose(dev.recs, "fr", FR[fr]!, gate), compose(dev.recs, "faceres", RES[res]!, gate)]);
    const h = pairTable(held.images, [compose(held.recs, "fr", FR[fr]!, gate), compose(held.recs, "faceres", RES[res]!, gate)]);
    tables.set(`${fr}|${res}`, { d, h });
    // The plain faceres comes with human's detection pass; every other variant is one more faceres run.
    const msImg = cost.job + (FR[fr]!.length - 1) * cost.fr + (RES[res]!.length - 1) * cost.faceres;
    const inv = [0, 1].map((k) => 1 / sdOf(d, k).sd);
    const w = inv.map((x) => x / (inv[0]! + inv[1]!));
    if (fr === res || res === "plain") console.log(line(`fr ${fr} alone`, msImg, tmrOf(d.kind, d.cos[0]!), h, h.cos[0]!));
    if (fr === res || fr === "plain") console.log(line(`faceres ${res} alone`, msImg, tmrOf(d.kind, d.cos[1]!), h, h.cos[1]!));
    console.log(
      line(
        `fused fr ${fr} + faceres ${res} (w ${w.map((x) => x.toFixed(3)).join(" / ")})`,
        msImg,
        tmrOf(d.kind, scoresOf(d, w, 2, [])),
        h,
        scoresOf(h, w, 2, []),
      ),
    );
  }

  // Paired bootstrap by identity of the FMR-0 cross-photo gain over the plain fusion.
  const fusedOf = (key: string, which: "d" | "h") => {
    const tt = tables.get(key)![which];
    const inv = [0, 1].map((k) => 1 / sdOf(tables.get(key)!.d, k).sd);
    return scoresOf(
      tt,
      inv.map((x) => x / (inv[0]! + inv[1]!)),
      2,
      [],
    );
  };
  console.log(
    "\nTMR at FMR 0, cross-photo, gain over the plain fusion: paired bootstrap by identity (1,000 draws; median [95 % interval], share of draws with no gain)\n\n| configuration | dev | held-out |\n|---|---|---|",
  );
  for (const key of ["flip|plain", "plain|flip", "flip|flip", "scale3+flip|plain", "plain|scale3+flip", "all8|all6"]) {
    const cell = (w: "d" | "h") => {
      const b = bootstrapFmr0(tables.get("plain|plain")![w], fusedOf("plain|plain", w), fusedOf(key, w));
      return `${(b.mid * 100).toFixed(1)} [${(b.lo * 100).toFixed(1)}, ${(b.hi * 100).toFixed(1)}], ${(b.notBetter * 100).toFixed(0)} %`;
    };
    console.log(`| fr ${key.split("|")[0]} + faceres ${key.split("|")[1]} | ${cell("d")} | ${cell("h")} |`);
  }

  // 2. Weights fitted on dev, cross-validated by identity: two parts, then face-api's 128-d as a third.
  const base2 = [0.439, 0.561];
  const tm = (r: Tmr) => `${pct(r.cross0)} / ${pct(r.var0)} | ${pct(r.cross1)} / ${pct(r.var1)}`;
  console.log(
    "\nscore-level weights (objective: TMR at FMR 0 + 0.1 %, cross + variant). CV: 5 folds by identity, weights fitted outside the fold, TMR at the fold's own FMR 0 / 0.1 %, mean of folds; baseline: the farm's weights 0.439 / 0.561 on the same folds\n\n| parts | weights per fold | CV FMR 0: cross / var | CV FMR 0.1 % | baseline FMR 0 | baseline FMR 0.1 % | fitted on all dev | held-out own FMR 0 | held-out FMR 0.1 % |\n|---|---|---|---|---|---|---|---|---|",
  );
  const cvLine = (name: string, d: PairTable, h: PairTable, grid: number[][], fill: number[], base: number[]) => {
    const r = crossValidated(d, grid, 2, fill, base);
    const wAll = fitWeights(d, grid, 2, fill, () => true);
    const hh = tmrOf(h.kind, scoresOf(h, wAll, 2, fill));
    const ws = (w: number[]) => w.map((x) => x.toFixed(3)).join("/");
    console.log(
      `| ${name} | ${r.weights.map(ws).join(", ")} | ${tm(r.cv)} | ${tm(r.base)} | ${ws(wAll)} | ${pct(hh.cross0)} / ${pct(hh.var0)} | ${pct(hh.cross1)} / ${pct(hh.var1)} |`,
    );
  };
  for (const key of ["plain|plain", ...(args.includes("--cv-tta") ? ["scale3+flip|plain", "all8|all6"] : [])]) {
    const { d, h } = tables.get(key)!;
    cvLine(`fr ${key.split("|")[0]} + faceres ${key.split("|")[1]}`, d, h, simplex(2, 0.025), [], base2);
  }
  if (dev.fa && held.fa) {
    const gateFa = (recs: TtaRecord[], fa: Part) => fa.map((v, i) => (v && recs[i]!.brightness !== null && recs[i]!.brightness! >= gate ? v : null));
    const d = pairTable(dev.images, [compose(dev.recs, "fr", ["plain"], gate), compose(dev.recs, "faceres", ["plain"], gate), gateFa(dev.recs, dev.fa)]);
    const h = pairTable(held.images, [compose(held.recs, "fr", ["plain"], gate), compose(held.recs, "faceres", ["plain"], gate), gateFa(held.recs, held.fa)]);
    const fill = [0, 0, sdOf(d, 2).mu];
    const missing = (fa: Part) => fa.filter((v) => !v).length;
    cvLine("fr + faceres + face-api", d, h, simplex(3, 0.05), fill, [...base2, 0]);
    console.log(
      `\nface-api: no face in ${missing(dev.fa)} of ${dev.fa.length} dev, ${missing(held.fa)} of ${held.fa.length} held-out images; a missing face-api cosine counts as its dev impostor mean ${fill[2]!.toFixed(3)}`,
    );
    console.log(`${head}\n${line("face-api alone (no face = miss)", NaN, tmrOf(d.kind, d.cos[2]!), h, h.cos[2]!)}`);
  }
}
