/**
 * Test-time augmentation (TTA) of the fusion model's two parts, measured (fifth pass,
 * CALIBRATION.md). One face.embed pass per image through the plugin's own job code (work cap,
 * rotation search, largest face: `runEmbed`), with human run in this thread instead of its
 * worker so that the chosen face's crop can be described again under small changes:
 *
 * - faceplugin-fr: the ArcFace 5-point alignment with the template mirrored (the crop's
 *   mirror), scaled by 0.94 / 1.06 about the crop centre, shifted 3 px left / right / up / down;
 * - human-faceres: human's own straightened face crop (`face.detector.return`) mirrored,
 *   zoomed in / out 6 %, shifted 3 % left / right, fed to the faceres net as human feeds it.
 *
 * Every variant's unit embedding is kept per image, with the face's brightness (the quality
 * gate) and the milliseconds each descriptor run took, so tta-score.ts can compose any
 * combination (mean of embeddings) without another detection pass.
 *
 *   node --import tsx scripts/face-eval/tta.ts [--set DIR] --out FILE.json [--limit N (first N images: a smoke run)]
 */
import fs from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import ort from "onnxruntime-node";
import { descriptorTensor } from "../../plugins/face/faceplugin/backend.ts";
import { fetchFacepluginWeights } from "../../plugins/face/faceplugin/fetch-weights.ts";
import { fuseEmbeddings } from "../../plugins/face/fusion/backend.ts";
import { l2normalize } from "../../plugins/face/geometry.ts";
import { HumanBackend } from "../../plugins/face/human/backend.ts";
import { loadHuman } from "../../plugins/face/human/loader.ts";
import { ARCFACE_SIZE, ARCFACE_TEMPLATE, estimateSimilarity, warpAffine } from "../../plugins/face/insightface/align.ts";
import { runEmbed } from "../../plugins/face/jobs.ts";
import type { DetectedFace, FaceBackend, Point, RgbImage } from "../../plugins/face/types.ts";
import { landmarksToPoints } from "../../plugins/face/types.ts";
import { makeTaskContext } from "../../test/helpers/task-context.ts";
import { DEFAULT_SET_DIR, readManifest } from "./manifest.ts";

/** Template changes for faceplugin-fr: [scale about the crop centre, dx, dy] in crop pixels. */
export const FR_JITTER: Record<string, [number, number, number]> = {
  zin: [1.06, 0, 0],
  zout: [0.94, 0, 0],
  xl: [1, -3, 0],
  xr: [1, 3, 0],
  yu: [1, 0, -3],
  yd: [1, 0, 3],
};
/** Boxes (y1, x1, y2, x2, as fractions of human's face crop) for faceres. */
export const FACERES_JITTER: Record<string, [number, number, number, number]> = {
  zin: [0.03, 0.03, 0.97, 0.97],
  zout: [-0.03, -0.03, 1.03, 1.03],
  xl: [0, 0.03, 1, 1.03],
  xr: [0, -0.03, 1, 0.97],
};

/** The ArcFace template scaled by s about the crop centre and moved by (dx, dy). */
export function jitterTemplate(s: number, dx: number, dy: number): Point[] {
  const c = ARCFACE_SIZE / 2;
  return ARCFACE_TEMPLATE.map(([x, y]) => [c + s * (x - c) + dx, c + s * (y - c) + dy] as Point);
}

/** The horizontal mirror of an RGB image. */
export function mirror(img: RgbImage): RgbImage {
  const out = new Uint8Array(img.data.length);
  for (let y = 0; y < img.height; y++)
    for (let x = 0; x < img.width; x++) {
      const s = (y * img.width + x) * 3,
        d = (y * img.width + (img.width - 1 - x)) * 3;
      out[d] = img.data[s]!;
      out[d + 1] = img.data[s + 1]!;
      out[d + 2] = img.data[s + 2]!;
    }
  return { width: img.width, height: img.height, data: out };
}

export interface TtaRecord {
  /** Mean brightness of the aligned face (the quality gate's signal), null: no face. */
  brightness: number | null;
  rotation?: number;
  fr?: Record<string, number[]>;
  faceres?: Record<string, number[]>;
  /** Milliseconds: the face.embed job without TTA's extra runs, one fr run, one faceres run (mean). */
  ms?: { job: number; fr: number; faceres: number };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const arg = (n: string) => (args.includes(n) ? args[args.indexOf(n) + 1] : undefined);
  const dir = path.resolve(arg("--set") ?? DEFAULT_SET_DIR);
  const outFile = path.resolve(arg("--out") ?? "tta.json");
  const manifest = readManifest(dir);
  if (!manifest) throw new Error(`no evaluation set in ${dir}`);
  const ctx = makeTaskContext();
  await fetchFacepluginWeights(ctx.modelsDir);
  const session = await ort.InferenceSession.create(path.join(ctx.modelsDir, "faceplugin/fr_feature.onnx"), { executionProviders: ["cpu"] });
  const { human, tf } = (await loadHuman()) as unknown as { human: any; tf: any };
  human.config.face.detector.return = true;
  const faceresNet = human.models.models.faceres;
  const hb = await HumanBackend.create();

  // Face crops kept per image (disposed when the next image starts), keyed by the face's own faceres vector.
  const crops = new Map<string, any>();
  const keyOf = (e: ArrayLike<number>) => Array.from(e).slice(0, 8).join(",");
  const detect = human.detect.bind(human);
  human.detect = async (input: unknown) => {
    const r = await detect(input);
    for (const f of r.face ?? []) if (f.tensor && f.embedding?.length) crops.set(keyOf(f.embedding), f.tensor);
    return r;
  };

  const frRun = async (face: RgbImage): Promise<number[]> => {
    const res = await session.run({ [session.inputNames[0]!]: new ort.Tensor("float32", descriptorTensor(face), [1, 3, ARCFACE_SIZE, ARCFACE_SIZE]) });
    return Array.from(l2normalize(Float32Array.from(res[session.outputNames[0]!]!.data as Float32Array)));
  };
  const faceresRun = async (input: any): Promise<number[]> => {
    const x = tf.mul(input, 255);
    const outs = faceresNet.execute(x) as any[];
    const desc = outs.find((t: any) => t.shape[1] === 1024);
    const v = Float32Array.from(await desc.data());
    tf.dispose([x, ...outs]);
    return Array.from(l2normalize(v));
  };

  let current: TtaRecord | undefined;
  const tta: FaceBackend = {
    model: "fusion-fr-faceres-tta",
    embeddingDim: 1536,
    defaultDetector: hb.defaultDetector,
    uprightDetector: undefined,
    detect: (image, signal) => hb.detect(image, signal),
    detectReport: (image, signal) => hb.detectReport(image, signal),
    async embed(image: RgbImage, face: DetectedFace) {
      const t0 = performance.now();
      const pts = landmarksToPoints(face.landmarks);
      const fr: Record<string, number[]> = {};
      const plainCrop = warpAffine(image, estimateSimilarity(pts, ARCFACE_TEMPLATE), ARCFACE_SIZE);
      fr.plain = await frRun(plainCrop);
      const frMs = performance.now() - t0;
      fr.flip = await frRun(mirror(plainCrop));
      for (const [name, [s, dx, dy]] of Object.entries(FR_JITTER))
        fr[name] = await frRun(warpAffine(image, estimateSimilarity(pts, jitterTemplate(s, dx, dy)), ARCFACE_SIZE));
      const own = Array.from(await hb.embed(image, face));
      const kept = crops.get(keyOf((face.internal as { embedding: number[] }).embedding));
      if (!kept) throw new Error("no face crop kept for the chosen face");
      // human keeps the crop as [h, w, 3] (values 0..1); the net and cropAndResize take a batch.
      const crop = kept.rank === 3 ? tf.expandDims(kept, 0) : kept;
      const faceres: Record<string, number[]> = { plain: own };
      const t1 = performance.now();
      const resized = tf.image.resizeBilinear(crop, [224, 224], false);
      const check = await faceresRun(resized);
      const faceresMs = performance.now() - t1;
      const dot = check.reduce((s, x, i) => s + x * own[i]!, 0);
      if (dot < 0.999) throw new Error(`faceres from the kept crop differs from human's own (cosine ${dot})`);
      const flipped = tf.reverse(resized, 2);
      faceres.flip = await faceresRun(flipped);
      tf.dispose([resized, flipped]);
      for (const [name, box] of Object.entries(FACERES_JITTER)) {
        const c = tf.image.cropAndResize(crop, [box], [0], [224, 224]);
        faceres[name] = await faceresRun(c);
        tf.dispose(c);
      }
      if (crop !== kept) tf.dispose(crop);
      current = { brightness: null, fr, faceres, ms: { job: 0, fr: frMs, faceres: faceresMs } };
      return fuseEmbeddings(Float32Array.from(fr.plain), Float32Array.from(own));
    },
    async dispose() {},
  };

  const out: TtaRecord[] = [];
  let n = 0;
  try {
    const limit = Number(arg("--limit") ?? Infinity);
    for (const img of manifest.images.slice(0, limit)) {
      for (const t of crops.values()) tf.dispose(t);
      crops.clear();
      current = undefined;
      const key = `eval/${img.file}`;
      await ctx.artifacts.putFile(key, path.join(dir, img.file));
      const t0 = performance.now();
      try {
        const r = await runEmbed(tta, { image: key }, ctx);
        const rec = current as TtaRecord | undefined;
        if (!rec) throw new Error("embed not reached");
        const extra = (rec.fr ? Object.keys(rec.fr).length - 1 : 0) * rec.ms!.fr + (rec.faceres ? Object.keys(rec.faceres).length : 0) * rec.ms!.faceres;
        rec.ms!.job = performance.now() - t0 - extra;
        rec.brightness = (r.quality as { brightness: number }).brightness;
        rec.rotation = r.rotation as number;
        out.push(rec);
      } catch (err) {
        if (!String((err as Error).message).includes("no face")) console.error(img.file, (err as Error).message);
        out.push({ brightness: null });
      }
      if (++n % 50 === 0) console.error(`${n} / ${manifest.images.length}`);
    }
    fs.writeFileSync(outFile, JSON.stringify(out));
    console.error(`wrote ${outFile}: ${out.filter((r) => r.fr).length} of ${out.length} images with a face`);
  } finally {
    ctx.cleanup();
  }
}
