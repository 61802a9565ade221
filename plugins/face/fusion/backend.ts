/**
 * Model "fusion-fr-faceres": faceplugin-fr (512-d, aligned crops) and human-faceres (1024-d)
 * fused into one 1536-d unit vector. Both see the same face (human's detector and mesh), so
 * the fusion costs one extra descriptor read: human computes faceres in its detection pass.
 *
 * Why: on the dev split each single model is weak where the other is strong (faceplugin-fr on
 * real different photos, human-faceres on synthetic variants: grey, blur, low light); a
 * z-normalised sum of the two cosines matched as many cross-photo pairs as faceplugin-fr and
 * as many variants as human-faceres at FMR 0.1 % (scripts/face-eval/fuse.ts, CALIBRATION.md).
 * The two unit vectors are concatenated with weights sqrt(w_fr), sqrt(w_faceres), so the
 * cosine of two fused vectors is w_fr * cos_fr + w_faceres * cos_faceres: the z-sum's ordering
 * (the weights are 1 / impostor spread on dev, normalised), with one threshold and the
 * existing character store and verify unchanged.
 */
import { FarmError } from "../../../core/errors.ts";
import type { DetectedFace, FaceBackend, RgbImage } from "../types.ts";

export const FUSION_MODEL = "fusion-fr-faceres";
/** Dev impostor spreads 0.102 (faceplugin-fr) and 0.080 (human-faceres): w = (1/sd) / sum(1/sd). */
export const FUSION_WEIGHTS = { fr: 0.439, faceres: 0.561 } as const;

export class FusionBackend implements FaceBackend {
  readonly model = FUSION_MODEL;
  readonly embeddingDim: number;
  readonly defaultDetector: string | undefined;
  readonly uprightDetector: string | undefined;

  /** `fr` is the faceplugin-fr backend, `faceres` the human-faceres backend it detects with. */
  constructor(
    private readonly fr: FaceBackend,
    private readonly faceres: FaceBackend,
  ) {
    this.embeddingDim = fr.embeddingDim + faceres.embeddingDim;
    this.defaultDetector = faceres.defaultDetector;
    this.uprightDetector = faceres.uprightDetector;
  }

  detect(image: RgbImage, signal?: AbortSignal, opts?: { landmarks?: boolean; detector?: "fast" | "accurate" }): Promise<DetectedFace[]> {
    return this.faceres.detect(image, signal, opts);
  }

  async detectReport(image: RgbImage, signal?: AbortSignal, opts?: { landmarks?: boolean; detector?: "fast" | "accurate" }) {
    if (this.faceres.detectReport) return this.faceres.detectReport(image, signal, opts);
    return { faces: await this.detect(image, signal, opts), detector: this.defaultDetector ?? this.faceres.model };
  }

  /** The detecting backend's BlazeFace crop scores (the half-turn check); zeros, no evidence, where it has none. */
  cropFaceScores(crops: RgbImage[], signal?: AbortSignal): Promise<number[]> {
    return this.faceres.cropFaceScores ? this.faceres.cropFaceScores(crops, signal) : Promise.resolve(crops.map(() => 0));
  }

  async embed(image: RgbImage, face: DetectedFace): Promise<Float32Array> {
    const [a, b] = await Promise.all([this.fr.embed(image, face), this.faceres.embed(image, face)]);
    if (a.length + b.length !== this.embeddingDim)
      throw new FarmError("MODEL_ERROR", `fusion got ${a.length} + ${b.length} values, expected ${this.embeddingDim}`);
    return fuseEmbeddings(a, b);
  }

  /** Nothing of its own to free: both parts are shared with their own model ids. */
  async dispose(): Promise<void> {}
}

/** The fused unit vector of two unit embeddings: [sqrt(w_fr) * fr, sqrt(w_faceres) * faceres]. */
export function fuseEmbeddings(fr: Float32Array, faceres: Float32Array): Float32Array {
  const out = new Float32Array(fr.length + faceres.length);
  const wa = Math.sqrt(FUSION_WEIGHTS.fr),
    wb = Math.sqrt(FUSION_WEIGHTS.faceres);
  fr.forEach((x, i) => (out[i] = wa * x));
  faceres.forEach((x, i) => (out[fr.length + i] = wb * x));
  return out;
}
