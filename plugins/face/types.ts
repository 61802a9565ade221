/**
 * Shared shapes of the face plugin: decoded images, detected faces and the backend
 * contract both models (face-api on tfjs-wasm, InsightFace on onnxruntime) implement.
 */

/** A decoded, EXIF-oriented image: packed RGB, 3 bytes per pixel, row-major. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export type Point = [number, number];

/** The five named landmarks every backend reports, in source-image pixels. */
export interface Landmarks5 {
  left_eye: Point;
  right_eye: Point;
  nose: Point;
  mouth_left: Point;
  mouth_right: Point;
}

/** One detected face, in source-image pixels. */
export interface DetectedFace {
  /** [x1, y1, x2, y2]. */
  bbox: [number, number, number, number];
  confidence: number;
  landmarks: Landmarks5;
  /** Backend-private data needed to embed this face later (e.g. the 68-point landmarks). */
  internal?: unknown;
}

/**
 * Per-call detection options. `tiles: false` skips a backend's extra scan of big images in
 * tiles (face-api above 2048 px), which is for small faces: the rotation search's bordered
 * retry is for faces that fill the frame.
 */
export interface DetectOpts {
  landmarks?: boolean;
  detector?: "fast" | "accurate";
  tiles?: boolean;
}

/** What a model id's loaded handle offers the plugin. */
export interface FaceBackend {
  /** Model id, echoed in every response ("face-api", "insightface"). */
  readonly model: string;
  readonly embeddingDim: number;
  /**
   * All faces, highest confidence first. `landmarks: false` lets a backend skip its
   * landmark stage (face-api); landmarks are then zeros and the face cannot be embedded
   * without recomputing them.
   */
  detect(image: RgbImage, signal?: AbortSignal, opts?: DetectOpts): Promise<DetectedFace[]>;
  /**
   * Name of the detector net this backend runs by default ("scrfd", "tiny_face_detector",
   * "ssd_mobilenetv1"); reported as `detector` in results when detectReport is absent.
   */
  readonly defaultDetector?: string;
  /**
   * detect() plus the detector net that actually produced the boxes (face-api's "fast" mode
   * may fall back from TinyFaceDetector to SSD). `opts.detector` picks the mode.
   */
  detectReport?(image: RgbImage, signal?: AbortSignal, opts?: DetectOpts): Promise<{ faces: DetectedFace[]; detector: string }>;
  /**
   * Optional: how confidently a rotation-sensitive detector sees an upright face (0-1, 0 when
   * none). The rotation search uses it where the main detector also fires on sideways faces.
   */
  uprightScore?(image: RgbImage, signal?: AbortSignal): Promise<number>;
  /**
   * Optional: a second detector's best face score (0-1) for each square crop (face-api:
   * BlazeFace, blazeface-score.ts). The rotation search compares a face's crop with the same
   * crop turned 180 degrees, which its upright detector cannot tell apart (jobs.ts).
   */
  cropFaceScores?(crops: RgbImage[], signal?: AbortSignal): Promise<number[]>;
  /** Name of the detector whose faces are upright by construction (face-api: tiny_face_detector). */
  readonly uprightDetector?: string;
  /** L2-normalised embedding of one face found by `detect` on the same image. */
  embed(image: RgbImage, face: DetectedFace): Promise<Float32Array>;
  dispose?(): Promise<void>;
}

/** Landmark order shared by SCRFD output and the ArcFace template. */
export const LANDMARK_ORDER = ["left_eye", "right_eye", "nose", "mouth_left", "mouth_right"] as const;

export function landmarksFromPoints(pts: readonly Point[]): Landmarks5 {
  const p = (i: number): Point => {
    const v = pts[i];
    if (!v) throw new Error(`landmark ${i} missing`);
    return [v[0], v[1]];
  };
  return { left_eye: p(0), right_eye: p(1), nose: p(2), mouth_left: p(3), mouth_right: p(4) };
}

export function landmarksToPoints(l: Landmarks5): Point[] {
  return LANDMARK_ORDER.map((k) => l[k]);
}
