/**
 * The face evaluation set: images with identity labels, where each came from and under
 * which licence. `photo_id` names the original photograph an image derives from, so a pair
 * of images of one identity is a cross-photo pair (different photographs) or a variant pair
 * (the same photograph resized, recompressed, relit, turned...).
 */
import fs from "node:fs";
import path from "node:path";

export interface EvalImage {
  /** Path relative to the set's folder. */
  file: string;
  identity: string;
  /** The original photograph this image is or derives from. */
  photo_id: string;
  kind: "photo" | "variant";
  /** For variants: what was done to the photo. */
  variant?: string;
  source: string;
  licence: string;
}

export interface EvalManifest {
  built_at: string;
  /** What the set is, in words (copied into BENCHMARKS.md). */
  description: string;
  images: EvalImage[];
}

export const DEFAULT_SET_DIR = path.resolve(import.meta.dirname, "../../eval-set");

export function readManifest(dir = DEFAULT_SET_DIR): EvalManifest | null {
  const p = path.join(dir, "manifest.json");
  return fs.existsSync(p) ? (JSON.parse(fs.readFileSync(p, "utf8")) as EvalManifest) : null;
}

export type PairKind = "cross_photo" | "variant" | "impostor";

/** Every unordered pair of images, by kind. */
export function pairsOf(images: readonly EvalImage[]): { a: number; b: number; kind: PairKind }[] {
  const out: { a: number; b: number; kind: PairKind }[] = [];
  for (let a = 0; a < images.length; a++) {
    for (let b = a + 1; b < images.length; b++) {
      const x = images[a]!,
        y = images[b]!;
      out.push({ a, b, kind: x.identity !== y.identity ? "impostor" : x.photo_id !== y.photo_id ? "cross_photo" : "variant" });
    }
  }
  return out;
}
