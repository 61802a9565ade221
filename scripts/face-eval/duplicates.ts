/**
 * Label check: identity pairs of the evaluation set that look like one person to several
 * models at once. For every pair of identities, the median cosine between their images, per
 * model; pairs are ranked by the sum of those medians as z-scores over all identity pairs.
 * A genuine duplicate stands out in every model; a pair one model likes is that model's error.
 * Candidates are checked by eye before a label fix (build.ts DEMO_SAME_PERSON says the rule).
 *
 *   node --import tsx scripts/face-eval/duplicates.ts [--set DIR] [--top N] EMB.json ...
 * (embedding files from evaluate.ts --save, aligned with the set's manifest)
 */
import fs from "node:fs";
import path from "node:path";
import { cosine } from "../../core/characters/logic.ts";
import { DEFAULT_SET_DIR, readManifest, type EvalImage } from "./manifest.ts";

export interface IdentityPair {
  a: string;
  b: string;
  /** Median cosine between the two identities' images, per model (NaN: no embedded pair). */
  medians: number[];
  /** Sum over models of the median's z-score among all identity pairs. */
  z: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
};

export function rankIdentityPairs(images: readonly EvalImage[], embeddings: readonly (readonly (readonly number[] | null)[])[]): IdentityPair[] {
  const ids = [...new Set(images.map((i) => i.identity))];
  const members = new Map(ids.map((id) => [id, images.flatMap((im, i) => (im.identity === id ? [i] : []))]));
  const pairs: IdentityPair[] = [];
  for (let x = 0; x < ids.length; x++) {
    for (let y = x + 1; y < ids.length; y++) {
      const medians = embeddings.map((e) => {
        const s: number[] = [];
        for (const i of members.get(ids[x]!)!) for (const j of members.get(ids[y]!)!) if (e[i] && e[j]) s.push(cosine(e[i]!, e[j]!));
        return median(s);
      });
      pairs.push({ a: ids[x]!, b: ids[y]!, medians, z: 0 });
    }
  }
  embeddings.forEach((_, k) => {
    const col = pairs.map((p) => p.medians[k]!).filter((v) => !Number.isNaN(v));
    const mu = col.reduce((s, v) => s + v, 0) / Math.max(1, col.length);
    const sd = Math.sqrt(col.reduce((s, v) => s + (v - mu) ** 2, 0) / Math.max(1, col.length)) || 1;
    for (const p of pairs) if (!Number.isNaN(p.medians[k]!)) p.z += (p.medians[k]! - mu) / sd;
  });
  return pairs.sort((p, q) => q.z - p.z);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const opt = (name: string) => (args.includes(name) ? args.splice(args.indexOf(name), 2)[1] : undefined);
  const dir = path.resolve(opt("--set") ?? DEFAULT_SET_DIR);
  const top = Number(opt("--top") ?? 15);
  const manifest = readManifest(dir);
  if (!manifest) throw new Error(`no evaluation set in ${dir}`);
  const embeddings = args.map((f) => JSON.parse(fs.readFileSync(f, "utf8")) as (number[] | null)[]);
  for (const p of rankIdentityPairs(manifest.images, embeddings).slice(0, top))
    console.log(`${p.z.toFixed(1)}\t${p.medians.map((m) => m.toFixed(3)).join("\t")}\t${p.a}\t${p.b}`);
}
