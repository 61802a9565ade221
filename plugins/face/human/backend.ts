/**
 * Model "human-faceres": @vladmandic/human's blazeface detector, facemesh and faceres 1024-d
 * descriptor, CPU (tfjs-wasm). Measured on the evaluation set (BENCHMARKS.md, face section)
 * against face-api's 128-d descriptor: fewer photos without a detected face and a higher
 * true-match rate at zero false matches, so it is the default for new characters
 * (core/characters/thresholds.ts DEFAULT_CHARACTER_MODEL). The descriptor is computed in the
 * same pass as detection (human runs the whole face pipeline per image), so embed() reads it
 * from the detected face.
 */
import { FarmError } from "../../../core/errors.ts";
import { BlazeFaceScorer } from "../blazeface-score.ts";
import { l2normalize } from "../geometry.ts";
import type { DetectedFace, FaceBackend, Landmarks5, Point, RgbImage } from "../types.ts";
import { loadHuman, type HumanFace, type HumanInstance, type HumanPoint, type HumanTf } from "./loader.ts";

export const HUMAN_FACE_MODEL = "human-faceres";
export const BLAZEFACE_DETECTOR = "blazeface";

const centre = (pts: HumanPoint[] | undefined): Point | null => {
  if (!pts || pts.length === 0) return null;
  let x = 0,
    y = 0;
  for (const p of pts) {
    x += p[0];
    y += p[1];
  }
  return [x / pts.length, y / pts.length];
};

/**
 * Five named points from facemesh: eye centres, nose tip, outer mouth corners, named as the
 * ArcFace template names them (left_eye = the eye on the image's left when the face is
 * upright = the subject's right eye, mesh "rightEye"). Taken from the mesh's own labels, not
 * by sorting on image x: on a face turned sideways (a photo stored 90 degrees off, which
 * blazeface finds with its in-plane rotation) the eyes sit one above the other, and sorting
 * by x swapped them half the time, so the 5-point alignment mirrored the face and
 * faceplugin-fr's descriptor of it matched strangers (dev: a turned photo at 0.77 against a
 * stranger, the FMR-0 point; CALIBRATION.md).
 */
export function fiveFromMesh(a: Record<string, HumanPoint[]>): Landmarks5 | null {
  const le = centre([...(a.rightEyeUpper0 ?? []), ...(a.rightEyeLower0 ?? [])]);
  const re = centre([...(a.leftEyeUpper0 ?? []), ...(a.leftEyeLower0 ?? [])]);
  const nose = a.noseTip?.[0];
  const lips = a.lipsUpperOuter;
  if (!le || !re || !nose || !lips || lips.length < 2) return null;
  // lipsUpperOuter runs from the subject's right mouth corner to the left one (image left to right when upright).
  const ml: Point = [lips[0]![0], lips[0]![1]];
  const mr: Point = [lips[lips.length - 1]![0], lips[lips.length - 1]![1]];
  return { left_eye: le, right_eye: re, nose: [nose[0], nose[1]], mouth_left: ml, mouth_right: mr };
}

interface Internal {
  embedding?: number[];
}

export class HumanBackend implements FaceBackend {
  readonly model = HUMAN_FACE_MODEL;
  readonly embeddingDim = 1024;
  readonly defaultDetector = BLAZEFACE_DETECTOR;
  private blaze: Promise<BlazeFaceScorer> | undefined;

  private constructor(
    private readonly human: HumanInstance,
    private readonly tf: HumanTf,
  ) {}

  static async create(): Promise<HumanBackend> {
    const { human, tf } = await loadHuman();
    return new HumanBackend(human, tf);
  }

  async detect(image: RgbImage, signal?: AbortSignal): Promise<DetectedFace[]> {
    if (signal?.aborted) throw new FarmError("JOB_CANCELLED", "face detection cancelled");
    const t = this.tf.tensor3d(image.data, [image.height, image.width, 3], "int32");
    let faces: HumanFace[];
    try {
      const r = await this.human.detect(t);
      if (r.error) throw new FarmError("INTERNAL_ERROR", `human face pipeline failed: ${r.error}`);
      faces = r.face ?? [];
    } finally {
      t.dispose();
    }
    const out: DetectedFace[] = [];
    for (const f of faces) {
      const [x, y, w, h] = f.box;
      const landmarks = fiveFromMesh(f.annotations);
      if (!landmarks || !(w > 0 && h > 0)) continue;
      out.push({
        bbox: [Math.max(0, x), Math.max(0, y), Math.min(image.width, x + w), Math.min(image.height, y + h)],
        confidence: f.score,
        landmarks,
        internal: { embedding: f.embedding && f.embedding.length > 0 ? Array.from(f.embedding) : undefined } satisfies Internal,
      });
    }
    return out.sort((a, b) => b.confidence - a.confidence);
  }

  async detectReport(image: RgbImage, signal?: AbortSignal): Promise<{ faces: DetectedFace[]; detector: string }> {
    return { faces: await this.detect(image, signal), detector: BLAZEFACE_DETECTOR };
  }

  /** BlazeFace's score per crop, for the rotation search's half-turn check (the model human's own pipeline runs first). */
  async cropFaceScores(crops: RgbImage[]): Promise<number[]> {
    this.blaze ??= BlazeFaceScorer.load().catch((err: unknown) => {
      this.blaze = undefined;
      throw err;
    });
    return (await this.blaze).scores(crops);
  }

  async embed(image: RgbImage, face: DetectedFace): Promise<Float32Array> {
    let emb = (face.internal as Internal | undefined)?.embedding;
    if (!emb) {
      // A face from another call: find it again (same image) by box overlap.
      const again = await this.detect(image);
      const c = (b: DetectedFace["bbox"]) => [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2] as const;
      const [cx, cy] = c(face.bbox);
      const near = again.sort((a, b) => Math.hypot(c(a.bbox)[0] - cx, c(a.bbox)[1] - cy) - Math.hypot(c(b.bbox)[0] - cx, c(b.bbox)[1] - cy))[0];
      emb = (near?.internal as Internal | undefined)?.embedding;
    }
    if (!emb || emb.length !== this.embeddingDim) throw new FarmError("MODEL_ERROR", "human faceres returned no descriptor for this face");
    return l2normalize(Float32Array.from(emb));
  }
}
