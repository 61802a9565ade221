/**
 * Adaptive symmetric score normalisation (AS-norm) against a cohort of impostor faces, measured
 * offline from saved embeddings. Why: the held-out FMR-0 point is set by real look-alikes, and
 * a look-alike pair is one where both faces are close to many strangers; AS-norm divides that
 * out: s' = ((s - mu_a) / sd_a + (s - mu_b) / sd_b) / 2, with mu/sd over the top-K cosines of
 * each side against the cohort (Cumani et al. 2011; Matejka et al. 2017 for the top-K variant).
 *
 * Cohort: the dev split's photographs (kind "photo"; with --cohort-variants their synthetic variants too), one vector each,
 * computed here at calibration from the dev embeddings (no data file). For a dev pair the
 * cohort leaves out both sides' identities (a person is no impostor of themself); held-out
 * has no identity in dev, so its pairs use the whole cohort.
 *
 *   node --import tsx scripts/face-eval/asnorm.ts --dev DIR FP.json HU.json [--held DIR FP.json HU.json] [--k 10,25,50] [--cohort-variants]
 * prints, for the fusion without and with AS-norm (per K): TMR at FMR 0 and 0.1 %,
 * cross-photo and variant; held-out at dev's threshold and at its own FMR 0.
 */
import { tmrAtFmr } from "./metrics.ts";
import { fusionWeights, loadSplit, pairScores, row, type Scores } from "./fuse.ts";
import { pairsOf, type EvalImage } from "./manifest.ts";

type Vec = readonly number[] | null;

const dot = (a: readonly number[], b: readonly number[]) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};
const unit = (v: readonly number[]) => {
  const n = Math.sqrt(dot(v, v)) || 1;
  return v.map((x) => x / n);
};

/** One unit vector per image whose cosine is the weighted sum of the models' cosines (fuse.ts). */
export function fuseVectors(embs: readonly (readonly Vec[])[], weights: readonly number[]): Vec[] {
  return embs[0]!.map((_, i) => {
    const parts = embs.map((e) => e[i]);
    if (parts.some((p) => !p)) return null;
    return parts.flatMap((p, k) => unit(p!).map((x) => x * Math.sqrt(weights[k]!)));
  });
}

export interface Cohort {
  vecs: readonly (readonly number[])[];
  ids: readonly string[];
}

/** Each image's cosines to the cohort, highest first, with the cohort member's identity. */
function cohortRanks(vecs: readonly Vec[], cohort: Cohort): { s: number; id: string }[][] {
  return vecs.map((v) => (v ? cohort.vecs.map((c, j) => ({ s: dot(v, c), id: cohort.ids[j]! })).sort((x, y) => y.s - x.s) : []));
}

/** Mean and spread of the top-k cohort scores, skipping the excluded identities. */
export function topKStats(ranked: readonly { s: number; id: string }[], k: number, exclude: ReadonlySet<string>): { mu: number; sd: number } {
  const top: number[] = [];
  for (const r of ranked) {
    if (top.length >= k) break;
    if (!exclude.has(r.id)) top.push(r.s);
  }
  const mu = top.reduce((a, b) => a + b, 0) / top.length;
  const sd = Math.sqrt(top.reduce((a, b) => a + (b - mu) ** 2, 0) / top.length);
  return { mu, sd: Math.max(sd, 1e-6) };
}

/** AS-norm score per pair of the set, by kind; a genuine pair without a face scores -Infinity. */
export function asNormScores(images: readonly EvalImage[], vecs: readonly Vec[], cohort: Cohort, k: number): Scores {
  const ranks = cohortRanks(vecs, cohort);
  const out: Scores = { cross_photo: [], variant: [], impostor: [] };
  for (const p of pairsOf(images)) {
    const a = vecs[p.a],
      b = vecs[p.b];
    if (!a || !b) {
      if (p.kind !== "impostor") out[p.kind].push(-Infinity);
      continue;
    }
    const ex = new Set([images[p.a]!.identity, images[p.b]!.identity]);
    const s = dot(a, b);
    const x = topKStats(ranks[p.a]!, k, ex),
      y = topKStats(ranks[p.b]!, k, ex);
    out[p.kind].push(((s - x.mu) / x.sd + (s - y.mu) / y.sd) / 2);
  }
  return out;
}

/** The cohort: the set's photographs that have a face (and their synthetic variants with `withVariants`). */
export function cohortOf(images: readonly EvalImage[], vecs: readonly Vec[], withVariants = false): Cohort {
  const vs: number[][] = [];
  const ids: string[] = [];
  images.forEach((im, i) => {
    const v = vecs[i];
    if ((withVariants || im.kind === "photo") && v) {
      vs.push([...v]);
      ids.push(im.identity);
    }
  });
  return { vecs: vs, ids };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const load = (flag: string) => loadSplit(args, flag);
  const ki = args.indexOf("--k");
  const ks = ki >= 0 ? args[ki + 1]!.split(",").map(Number) : [10, 25, 50];
  const dev = load("--dev");
  if (!dev) throw new Error("usage: asnorm.ts --dev DIR A.json B.json [--held DIR A.json B.json] [--k 10,25,50]");
  const held = load("--held");
  const w = fusionWeights(dev.embs.map((e) => pairScores(dev.images, e).impostor));
  const devV = fuseVectors(dev.embs, w);
  const cohort = cohortOf(dev.images, devV, args.includes("--cohort-variants"));
  const heldV = held ? fuseVectors(held.embs, w) : [];
  const plain = (images: readonly EvalImage[], vecs: readonly Vec[]) => pairScores(images, vecs);
  const head =
    "| scoring | TMR at FMR 0: cross-photo / variant | at FMR 0.1 % | dev threshold (FMR 0.1 %) | TMR at that threshold | FMR there (false pairs) |\n|---|---|---|---|---|---|";
  const configs: { name: string; score: (im: readonly EvalImage[], v: readonly Vec[]) => Scores }[] = [
    { name: "fusion, raw cosine", score: plain },
    ...ks.map((k) => ({ name: `fusion + AS-norm K=${k}`, score: (im: readonly EvalImage[], v: readonly Vec[]) => asNormScores(im, v, cohort, k) })),
  ];
  console.log(
    `fusion weights ${w.map((x) => x.toFixed(3)).join(" + ")}; cohort ${cohort.vecs.length} dev photos of ${new Set(cohort.ids).size} people\n\ndev\n${head}`,
  );
  const thr: number[] = [];
  for (const c of configs) {
    const s = c.score(dev.images, devV);
    // calibrate.ts's 0.01 grid is for cosines; AS-norm scores are in impostor-spread units, so
    // the threshold is the FMR-0.1 % point of the dev impostors itself (tmrAtFmr's rule).
    thr.push(tmrAtFmr([...s.cross_photo, ...s.variant], s.impostor, 0.001).threshold);
    console.log(row(c.name, s, thr.at(-1)!));
  }
  if (held) {
    // "TMR at FMR 0" is held-out's own FMR-0 point; "TMR at that threshold" is at dev's.
    console.log(`\nheld-out (dev's weights, cohort and thresholds)\n${head}`);
    configs.forEach((c, i) => {
      const s = c.score(held.images, heldV);
      console.log(row(c.name, s, thr[i]!));
    });
  }
}
