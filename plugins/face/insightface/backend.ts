/**
 * InsightFace on onnxruntime-node: SCRFD det_10g for detection + 5 landmarks, ArcFace
 * w600k_r50 for the 512-d embedding. Model id "insightface". CUDA execution provider when
 * the node has GPUs (falls back to CPU inside onnxruntime), CPU otherwise.
 *
 * The pretrained buffalo_l weights are for non-commercial research only; operators supply
 * them under <modelsDir>/insightface/buffalo_l/ (see README.md).
 */
import fs from "node:fs";
import path from "node:path";
import ort from "onnxruntime-node";
import { FarmError } from "../../../core/errors.ts";
import { l2normalize } from "../geometry.ts";
import type { DetectedFace, FaceBackend, RgbImage } from "../types.ts";
import { landmarksToPoints } from "../types.ts";
import { ARCFACE_SIZE, ARCFACE_TEMPLATE, arcfaceTensor, estimateSimilarity, warpAffine } from "./align.ts";
import { decodeScrfd, letterbox, SCRFD_INPUT, SCRFD_STRIDES, type StrideOutputs } from "./scrfd.ts";

export const INSIGHTFACE_FILES = ["insightface/buffalo_l/det_10g.onnx", "insightface/buffalo_l/w600k_r50.onnx"] as const;

export interface InsightFaceOptions {
  modelsDir: string;
  /** Use the CUDA execution provider (node has GPUs). */
  cuda?: boolean;
  scoreThreshold?: number;
  nmsThreshold?: number;
  /** onnxruntime intra-op threads (CPU). */
  threads?: number;
}

type Session = ort.InferenceSession;

async function openSession(file: string, cuda: boolean, threads?: number): Promise<Session> {
  const base: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: "all", ...(threads ? { intraOpNumThreads: threads } : {}) };
  if (cuda) {
    try {
      return await ort.InferenceSession.create(file, { ...base, executionProviders: ["cuda", "cpu"] });
    } catch {
      // The CPU-only onnxruntime build has no CUDA provider: run on CPU rather than fail.
    }
  }
  return ort.InferenceSession.create(file, { ...base, executionProviders: ["cpu"] });
}

export class InsightFaceBackend implements FaceBackend {
  readonly model = "insightface";
  /** SCRFD is the only detector here; `detector` params are ignored. */
  readonly defaultDetector = "scrfd";
  readonly embeddingDim: number;

  private constructor(
    private readonly det: Session,
    private readonly rec: Session,
    private readonly opts: InsightFaceOptions,
    dim: number,
  ) {
    this.embeddingDim = dim;
  }

  /** Opens both sessions. Missing or unreadable weights -> MODEL_ERROR naming the files. */
  static async create(opts: InsightFaceOptions): Promise<InsightFaceBackend> {
    const files = INSIGHTFACE_FILES.map((f) => path.join(opts.modelsDir, f));
    const missing = files.filter((f) => !fs.existsSync(f));
    if (missing.length > 0) {
      throw new FarmError(
        "MODEL_ERROR",
        `InsightFace weights missing: expected ${INSIGHTFACE_FILES.join(" and ")} under ${opts.modelsDir} (missing: ${missing.join(", ")}). They are non-commercial research weights: operators supply them.`,
        { files: [...INSIGHTFACE_FILES] },
      );
    }
    let det: Session;
    let rec: Session;
    try {
      det = await openSession(files[0]!, opts.cuda ?? false, opts.threads);
      rec = await openSession(files[1]!, opts.cuda ?? false, opts.threads);
    } catch (err) {
      throw new FarmError(
        "MODEL_ERROR",
        `InsightFace weights could not be loaded (${(err as Error).message}); expected valid ONNX files ${INSIGHTFACE_FILES.join(", ")}`,
        { files: [...INSIGHTFACE_FILES] },
      );
    }
    if (det.outputNames.length !== 9 && det.outputNames.length !== 6) {
      throw new FarmError("MODEL_ERROR", `det_10g.onnx has ${det.outputNames.length} outputs; SCRFD with 3 strides needs 6 (no keypoints) or 9`);
    }
    // Dimension from a dry run: the file tells us, whatever ArcFace variant was supplied.
    const probe = await rec.run({
      [rec.inputNames[0]!]: new ort.Tensor("float32", new Float32Array(3 * ARCFACE_SIZE * ARCFACE_SIZE), [1, 3, ARCFACE_SIZE, ARCFACE_SIZE]),
    });
    const out = probe[rec.outputNames[0]!];
    const dim = out ? out.data.length : 0;
    if (dim === 0) throw new FarmError("MODEL_ERROR", "w600k_r50.onnx produced no embedding");
    return new InsightFaceBackend(det, rec, opts, dim);
  }

  async detect(image: RgbImage): Promise<DetectedFace[]> {
    const lb = await letterbox(image, SCRFD_INPUT);
    const input = new ort.Tensor("float32", lb.tensor, [1, 3, lb.size, lb.size]);
    const res = await this.det.run({ [this.det.inputNames[0]!]: input });
    const outs = this.det.outputNames.map((n) => res[n]!.data as Float32Array);
    const fmc = SCRFD_STRIDES.length;
    const hasKps = outs.length === fmc * 3;
    // Output order as exported by InsightFace: scores x3, boxes x3, kps x3 (strides 8, 16, 32).
    const strides: StrideOutputs[] = SCRFD_STRIDES.map((stride, i) => ({
      stride,
      scores: outs[i]!,
      boxes: outs[i + fmc]!,
      ...(hasKps ? { kps: outs[i + 2 * fmc]! } : {}),
    }));
    const faces = decodeScrfd(strides, {
      scale: lb.scale,
      inputSize: lb.size,
      scoreThreshold: this.opts.scoreThreshold ?? 0.5,
      nmsThreshold: this.opts.nmsThreshold ?? 0.4,
    });
    return faces.map((f) => ({
      ...f,
      bbox: [Math.max(0, f.bbox[0]), Math.max(0, f.bbox[1]), Math.min(image.width, f.bbox[2]), Math.min(image.height, f.bbox[3])],
    }));
  }

  /** The aligned 112x112 crop ArcFace sees (exposed for tests and debugging). */
  alignedFace(image: RgbImage, face: DetectedFace): RgbImage {
    return warpAffine(image, estimateSimilarity(landmarksToPoints(face.landmarks), ARCFACE_TEMPLATE), ARCFACE_SIZE);
  }

  async embed(image: RgbImage, face: DetectedFace): Promise<Float32Array> {
    const crop = this.alignedFace(image, face);
    const input = new ort.Tensor("float32", arcfaceTensor(crop), [1, 3, ARCFACE_SIZE, ARCFACE_SIZE]);
    const res = await this.rec.run({ [this.rec.inputNames[0]!]: input });
    const out = res[this.rec.outputNames[0]!];
    if (!out) throw new FarmError("INTERNAL_ERROR", "ArcFace produced no output");
    return l2normalize(Float32Array.from(out.data as Float32Array));
  }

  async dispose(): Promise<void> {
    await this.det.release();
    await this.rec.release();
  }
}
