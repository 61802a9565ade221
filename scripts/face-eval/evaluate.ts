/**
 * Scores a face model on the evaluation set (manifest.ts): every image is embedded through
 * the plugin's face.embed job (the path /character/verify takes: work cap, rotation search,
 * largest face), then every pair is scored by cosine. Reported separately for cross-photo
 * and variant pairs: TMR at FMR 0 and at FMR 0.1 %, an ROC table, and the way a character's
 * several references are best combined (mean of normalised embeddings vs best of N).
 *
 *   node --import tsx scripts/face-eval/evaluate.ts [--model face-api] [--set DIR] [--cache] [--save FILE | --embeddings FILE]
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import facePlugin from "../../plugins/face/index.ts";
import { FACEPLUGIN_MODEL } from "../../plugins/face/faceplugin/backend.ts";
import { fetchFacepluginWeights } from "../../plugins/face/faceplugin/fetch-weights.ts";
import { FUSION_MODEL, fuseEmbeddings } from "../../plugins/face/fusion/backend.ts";
import { averageEmbedding, cosine } from "../../core/characters/logic.ts";
import { MODEL_THRESHOLDS } from "../../core/characters/thresholds.ts";
import { makeTaskContext } from "../../test/helpers/task-context.ts";
import { DEFAULT_SET_DIR, pairsOf, readManifest, type EvalImage, type PairKind } from "./manifest.ts";
import { rocPoints, rocThresholds, tmrAtFmr } from "./metrics.ts";

export interface ModelEval {
  model: string;
  embedded: number;
  missed: { file: string; reason: string }[];
  scores: Record<PairKind, number[]>;
  /** Genuine pairs lost because one image had no face (count as non-matches in TMR). */
  lostGenuine: Record<"cross_photo" | "variant", number>;
  combine: { method: "mean" | "best_of_n"; kind: "cross_photo" | "variant"; genuine: number[]; impostor: number[] }[];
}

/**
 * Embedding cache: eval-set/cache/<model>.json, sha256 of the image bytes -> embedding (null:
 * no face). Embedding ~1,000 images per model takes most of an hour on a loaded 2-core box, so
 * the bench reuses what the same face.embed path produced for the same bytes. Delete the
 * folder (or pass no cache) after changing a model's code or weights.
 */
export const CACHE_DIR = path.join(DEFAULT_SET_DIR, "cache");
type Cache = Record<string, number[] | null>;
const readCache = (file: string): Cache => (fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as Cache) : {});

export async function embedSet(model: string, images: readonly EvalImage[], dir: string, cacheFile?: string): Promise<(number[] | null)[]> {
  if (model === FUSION_MODEL) {
    // The fused vector is the parts' weighted concatenation on the same face (the same
    // detection path), so it is made from the parts' embeddings and their caches; a test
    // (face-faceplugin.test.ts) checks the backend's vector equals this composition.
    const part = (m: string) => embedSet(m, images, dir, cacheFile && path.join(path.dirname(cacheFile), `${m}.json`));
    const fr = await part(FACEPLUGIN_MODEL);
    const faceres = await part("human-faceres");
    return fr.map((a, i) => (a && faceres[i] ? Array.from(fuseEmbeddings(Float32Array.from(a), Float32Array.from(faceres[i]!))) : null));
  }
  const cache = cacheFile ? readCache(cacheFile) : {};
  const hashes = images.map((img) =>
    createHash("sha256")
      .update(fs.readFileSync(path.join(dir, img.file)))
      .digest("hex"),
  );
  const out: (number[] | null)[] = hashes.map((h) => cache[h] ?? null);
  const todo = images.map((_, i) => i).filter((i) => !(hashes[i]! in cache));
  if (todo.length === 0) return out;
  const ctx = makeTaskContext();
  // faceplugin-fr's weights are not in node_modules: fetched from its npm tarball (npm cache) into the context's models folder.
  if (model === FACEPLUGIN_MODEL) await fetchFacepluginWeights(ctx.modelsDir);
  try {
    await facePlugin.init!({ logger: ctx.logger, modelsDir: ctx.modelsDir, config: {}, gpus: [] });
    let n = 0;
    for (const i of todo) {
      const img = images[i]!;
      const key = `eval/${img.file}`;
      await ctx.artifacts.putFile(key, path.join(dir, img.file));
      try {
        const r = await facePlugin.run({ job_id: `e${++n}`, type: "face.embed", params: { image: key, model }, attempt: 1 }, ctx);
        out[i] = r.embedding as number[];
      } catch {
        out[i] = null; // no face found: counted as a miss by scoreEmbeddings
      }
      cache[hashes[i]!] = out[i]!;
    }
    if (cacheFile) {
      fs.mkdirSync(path.dirname(cacheFile), { recursive: true });
      fs.writeFileSync(cacheFile, JSON.stringify(cache));
    }
    return out;
  } finally {
    ctx.cleanup();
  }
}

/** References per identity for the combination test: its first photo plus its flip and brighter variants, or its first 3 photos when it has 3+ photographs. */
function referenceSplit(images: readonly EvalImage[], identity: string): { refs: number[]; probes: number[]; kind: "cross_photo" | "variant" } {
  const mine = images.map((im, i) => ({ im, i })).filter((x) => x.im.identity === identity);
  const photos = mine.filter((x) => x.im.kind === "photo");
  if (photos.length >= 4) {
    const refs = photos.slice(0, 3).map((x) => x.i);
    return { refs, probes: mine.filter((x) => !refs.includes(x.i)).map((x) => x.i), kind: "cross_photo" };
  }
  const refs = mine.filter((x) => x.im.kind === "photo" || x.im.variant === "flip" || x.im.variant === "brighter").map((x) => x.i);
  return { refs, probes: mine.filter((x) => !refs.includes(x.i)).map((x) => x.i), kind: "variant" };
}

export async function evaluateModel(model: string, dir = DEFAULT_SET_DIR, cacheFile?: string): Promise<ModelEval> {
  const manifest = readManifest(dir);
  if (!manifest) throw new Error(`no evaluation set in ${dir}: run node --import tsx scripts/face-eval/build.ts`);
  return scoreEmbeddings(model, manifest.images, await embedSet(model, manifest.images, dir, cacheFile));
}

/** Pair scores and the reference-combination test from embeddings aligned with `images` (null: no face). */
export function scoreEmbeddings(model: string, images: readonly EvalImage[], emb: readonly (readonly number[] | null)[]): ModelEval {
  const scores: Record<PairKind, number[]> = { cross_photo: [], variant: [], impostor: [] };
  const lostGenuine = { cross_photo: 0, variant: 0 };
  for (const p of pairsOf(images)) {
    const a = emb[p.a],
      b = emb[p.b];
    if (a && b) scores[p.kind].push(cosine(a, b));
    else if (p.kind !== "impostor") {
      lostGenuine[p.kind]++;
      scores[p.kind].push(-1);
    }
  }
  const combine: ModelEval["combine"] = [];
  for (const method of ["mean", "best_of_n"] as const) {
    for (const kind of ["cross_photo", "variant"] as const) combine.push({ method, kind, genuine: [], impostor: [] });
  }
  const identities = [...new Set(images.map((i) => i.identity))];
  for (const id of identities) {
    const split = referenceSplit(images, id);
    const refs = split.refs.map((i) => emb[i]).filter((e): e is readonly number[] => !!e);
    if (refs.length === 0) continue;
    const mean = averageEmbedding(refs);
    const score = (method: "mean" | "best_of_n", probe: readonly number[]) =>
      method === "mean" ? cosine(probe, mean) : Math.max(...refs.map((r) => cosine(probe, r)));
    for (const c of combine.filter((x) => x.kind === split.kind)) {
      for (const i of split.probes) {
        const e = emb[i];
        c.genuine.push(e ? score(c.method, e) : -1);
      }
      images.forEach((im, i) => {
        const e = emb[i];
        if (im.identity !== id && e) c.impostor.push(score(c.method, e));
      });
    }
  }
  return {
    model,
    embedded: emb.filter(Boolean).length,
    missed: images.flatMap((im, i) => (emb[i] ? [] : [{ file: im.file, reason: "no face found" }])),
    scores,
    lostGenuine,
    combine,
  };
}

const pct = (x: number) => (Number.isNaN(x) ? "n/a" : `${(x * 100).toFixed(1)}%`);

/** Markdown lines for BENCHMARKS.md: one block per model. */
export function reportLines(r: ModelEval, manifestDescription: string): string[] {
  const out: string[] = [];
  const imp = r.scores.impostor;
  const stored = MODEL_THRESHOLDS[r.model]?.threshold;
  out.push(
    `#### ${r.model} on the evaluation set`,
    "",
    `Set: ${manifestDescription}. Embedded ${r.embedded} images; no face in ${r.missed.length}${
      r.missed.length
        ? ` (${r.missed
            .map((m) => path.basename(m.file))
            .slice(0, 8)
            .join(", ")}${r.missed.length > 8 ? ", ..." : ""})`
        : ""
    }: their genuine pairs count as non-matches.`,
    "",
  );
  out.push(
    "| pairs | count | TMR at FMR 0 (threshold) | TMR at FMR 0.1 % (threshold) | TMR at FMR 0, only pairs with a face found in both | TMR at the stored threshold |",
    "|---|---|---|---|---|---|",
  );
  for (const kind of ["cross_photo", "variant"] as const) {
    const g = r.scores[kind];
    const z = tmrAtFmr(g, imp, 0),
      m = tmrAtFmr(g, imp, 0.001);
    const atStored = stored === undefined || g.length === 0 ? "n/a" : pct(g.filter((x) => x >= stored).length / g.length);
    const both = tmrAtFmr(
      g.filter((x) => x > -1),
      imp,
      0,
    );
    out.push(
      `| ${kind.replace("_", "-")} | ${g.length}${r.lostGenuine[kind] ? ` (${r.lostGenuine[kind]} without a face)` : ""} | ${g.length ? `${pct(z.tmr)} (${z.threshold.toFixed(3)})` : "n/a: no such pairs in the set"} | ${g.length ? `${pct(m.tmr)} (${m.threshold.toFixed(3)}, ${m.allowedFalse} false allowed)` : "n/a"} | ${g.length ? pct(both.tmr) : "n/a"} | ${atStored} |`,
    );
  }
  out.push(
    `| impostor | ${imp.length} | | | | FMR ${stored === undefined ? "n/a" : pct(imp.filter((x) => x >= stored).length / Math.max(1, imp.length))} at ${stored ?? "-"} |`,
  );
  const genuineAll = [...r.scores.cross_photo, ...r.scores.variant].filter((x) => x > -1);
  out.push("", "ROC (all genuine pairs with a face on both sides):", "", "| threshold | TMR cross-photo | TMR variant | FMR |", "|---|---|---|---|");
  const found = (xs: number[]) => xs.filter((x) => x > -1);
  for (const t of rocThresholds(genuineAll, imp)) {
    const [c] = rocPoints(found(r.scores.cross_photo), imp, [t]);
    const [v] = rocPoints(found(r.scores.variant), imp, [t]);
    out.push(`| ${t.toFixed(3)} | ${pct(c!.tmr)} | ${pct(v!.tmr)} | ${pct(v!.fmr)} |`);
  }
  const q = (xs: number[], p: number) => {
    const s = xs.filter((x) => x > -1).sort((a, b) => a - b);
    return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))]!.toFixed(3) : "n/a";
  };
  out.push(
    "",
    `cosine: variant genuine min ${q(r.scores.variant, 0)} / median ${q(r.scores.variant, 0.5)}; cross-photo genuine min ${q(r.scores.cross_photo, 0)} / median ${q(r.scores.cross_photo, 0.5)}; impostor median ${q(imp, 0.5)} / p99.9 ${q(imp, 0.999)} / max ${q(imp, 1)}`,
  );
  out.push(
    "",
    "Several references per character (3 references per identity; probes are the identity's other images; impostors are all other identities' images):",
    "",
    "| combination | probe pairs | genuine | impostor | TMR at FMR 0 | TMR at FMR 0.1 % |",
    "|---|---|---|---|---|---|",
  );
  for (const c of r.combine) {
    if (c.genuine.length === 0) {
      out.push(`| ${c.method} | ${c.kind.replace("_", "-")} | 0 | ${c.impostor.length} | n/a | n/a |`);
      continue;
    }
    out.push(
      `| ${c.method} | ${c.kind.replace("_", "-")} | ${c.genuine.length} | ${c.impostor.length} | ${pct(tmrAtFmr(c.genuine, c.impostor, 0).tmr)} | ${pct(tmrAtFmr(c.genuine, c.impostor, 0.001).tmr)} |`,
    );
  }
  return out;
}

/**
 * CLI. `--embeddings FILE --model NAME` scores embeddings made elsewhere (a JSON array aligned
 * with the manifest's images, null where no face was found), e.g. by a model that is not a
 * farm backend yet (scripts/face-eval/README.md: how @vladmandic/human was measured).
 */
if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const arg = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
  const model = arg("--model") ?? "face-api";
  const dir = path.resolve(arg("--set") ?? DEFAULT_SET_DIR);
  const manifest = readManifest(dir);
  if (!manifest) throw new Error(`no evaluation set in ${dir}`);
  const embFile = arg("--embeddings");
  const cache = args.includes("--cache") ? path.join(CACHE_DIR, `${model}.json`) : undefined;
  const emb = embFile ? (JSON.parse(fs.readFileSync(embFile, "utf8")) as (number[] | null)[]) : await embedSet(model, manifest.images, dir, cache);
  // --save FILE keeps the embeddings, so the set can be scored again (--embeddings) without re-embedding.
  const save = arg("--save");
  if (save) fs.writeFileSync(save, JSON.stringify(emb));
  const r = scoreEmbeddings(model, manifest.images, emb);
  console.log(reportLines(r, manifest.description).join("\n"));
}
