/**
 * One face.embed pass per image with the fusion model, kept as (1) both parts' embedding
 * caches (the fused vector is [sqrt(w_fr) * fr, sqrt(w_faceres) * faceres], so each part is
 * recovered exactly: one detection instead of two per image) and (2) the face's quality
 * signals that face.embed reports (detector score, box, face count, rotation, image size),
 * which the quality-gate analysis (quality.ts) reads.
 *
 *   node --import tsx scripts/face-eval/embed-meta.ts [--set DIR] [--crops DIR]
 *
 * `--crops DIR` also keeps each image's aligned 112x112 ArcFace-template crop (raw RGB,
 * DIR/<sha256>.rgb), so other descriptors that take aligned crops can be scored without
 * another detection pass (alt-descriptors.ts).
 *
 * Writes eval-set/cache/faceplugin-fr.json, human-faceres.json (the caches evaluate.ts --cache
 * reads, keyed by sha256 of the image bytes) and eval-set/cache/meta.json (same key).
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import facePlugin from "../../plugins/face/index.ts";
import { FACEPLUGIN_MODEL, FacepluginBackend } from "../../plugins/face/faceplugin/backend.ts";
import { fetchFacepluginWeights } from "../../plugins/face/faceplugin/fetch-weights.ts";
import { FUSION_MODEL, FUSION_WEIGHTS } from "../../plugins/face/fusion/backend.ts";
import { makeTaskContext } from "../../test/helpers/task-context.ts";
import { CACHE_DIR } from "./evaluate.ts";
import { DEFAULT_SET_DIR, readManifest } from "./manifest.ts";

export interface FaceMeta {
  confidence: number;
  bbox: [number, number, number, number];
  face_count: number;
  rotation: number;
  image_size?: [number, number];
}
export type MetaCache = Record<string, FaceMeta | null>;

const readJson = <T>(file: string, empty: T): T => (fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as T) : empty);

/** Splits a fused vector back into its unit parts (fuseEmbeddings' inverse). */
export function splitFused(v: readonly number[], frDim: number): { fr: number[]; faceres: number[] } {
  const wa = Math.sqrt(FUSION_WEIGHTS.fr),
    wb = Math.sqrt(FUSION_WEIGHTS.faceres);
  return { fr: v.slice(0, frDim).map((x) => x / wa), faceres: v.slice(frDim).map((x) => x / wb) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const dir = path.resolve(args.includes("--set") ? args[args.indexOf("--set") + 1]! : DEFAULT_SET_DIR);
  const manifest = readManifest(dir);
  if (!manifest) throw new Error(`no evaluation set in ${dir}`);
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  const files = {
    fr: path.join(CACHE_DIR, `${FACEPLUGIN_MODEL}.json`),
    faceres: path.join(CACHE_DIR, "human-faceres.json"),
    meta: path.join(CACHE_DIR, "meta.json"),
  };
  const fr = readJson<Record<string, number[] | null>>(files.fr, {});
  const faceres = readJson<Record<string, number[] | null>>(files.faceres, {});
  const meta = readJson<MetaCache>(files.meta, {});
  const cropsDir = args.includes("--crops") ? path.resolve(args[args.indexOf("--crops") + 1]!) : undefined;
  let lastCrop: Uint8Array | undefined;
  if (cropsDir) {
    fs.mkdirSync(cropsDir, { recursive: true });
    // The crop is made inside face.embed; wrapping the method keeps the job path itself unchanged.
    const align = FacepluginBackend.prototype.alignedFace;
    FacepluginBackend.prototype.alignedFace = function (this: FacepluginBackend, ...a: Parameters<typeof align>) {
      const crop = align.apply(this, a);
      lastCrop = crop.data;
      return crop;
    };
  }
  const ctx = makeTaskContext();
  await fetchFacepluginWeights(ctx.modelsDir);
  await facePlugin.init!({ logger: ctx.logger, modelsDir: ctx.modelsDir, config: {}, gpus: [] });
  // Written aside and renamed: a reader (quality.ts) never sees a half-written file.
  const write = (file: string, data: unknown) => {
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(data));
    fs.renameSync(`${file}.tmp`, file);
  };
  const save = () => {
    write(files.fr, fr);
    write(files.faceres, faceres);
    write(files.meta, meta);
  };
  let n = 0;
  try {
    for (const img of manifest.images) {
      const bytes = fs.readFileSync(path.join(dir, img.file));
      const h = createHash("sha256").update(bytes).digest("hex");
      const cropFile = cropsDir && path.join(cropsDir, `${h}.rgb`);
      if (h in meta && h in fr && h in faceres && (!cropFile || meta[h] === null || fs.existsSync(cropFile))) continue;
      lastCrop = undefined;
      const key = `eval/${img.file}`;
      await ctx.artifacts.putFile(key, path.join(dir, img.file));
      try {
        const r = await facePlugin.run({ job_id: `m${++n}`, type: "face.embed", params: { image: key, model: FUSION_MODEL }, attempt: 1 }, ctx);
        const parts = splitFused(r.embedding as number[], 512);
        fr[h] = parts.fr;
        faceres[h] = parts.faceres;
        meta[h] = {
          confidence: r.confidence as number,
          bbox: r.bbox as FaceMeta["bbox"],
          face_count: r.face_count as number,
          rotation: r.rotation as number,
          image_size: r.image_size as [number, number] | undefined,
        };
        if (cropFile && lastCrop) fs.writeFileSync(cropFile, lastCrop);
      } catch {
        fr[h] = faceres[h] = meta[h] = null;
      }
      if (n % 50 === 0) {
        save();
        console.error(`${n} embedded`);
      }
    }
    save();
  } finally {
    ctx.cleanup();
  }
}
