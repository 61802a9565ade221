/** Box geometry shared by the detectors: IoU, greedy NMS, face choice. */
import type { DetectedFace, Landmarks5 } from "./types.ts";

export type Box = [number, number, number, number];

export function area(b: Box): number {
  return Math.max(0, b[2] - b[0]) * Math.max(0, b[3] - b[1]);
}

export function iou(a: Box, b: Box): number {
  const ix = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const iy = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = ix * iy;
  const union = area(a) + area(b) - inter;
  return union <= 0 ? 0 : inter / union;
}

/**
 * Greedy non-maximum suppression. Returns the kept indices, highest score first.
 * `containment` also drops a box mostly inside a better one (tiles cut faces in half,
 * leaving a partial box that overlaps little by IoU but sits inside the full one).
 */
export function nms(boxes: readonly Box[], scores: readonly number[], iouThreshold: number, containment = 1): number[] {
  const order = scores
    .map((s, i) => [s, i] as const)
    .sort((a, b) => b[0] - a[0])
    .map(([, i]) => i);
  const keep: number[] = [];
  for (const i of order) {
    const bi = boxes[i]!;
    const suppressed = keep.some((k) => {
      const bk = boxes[k]!;
      if (iou(bi, bk) > iouThreshold) return true;
      if (containment < 1) {
        const ix = Math.max(0, Math.min(bi[2], bk[2]) - Math.max(bi[0], bk[0]));
        const iy = Math.max(0, Math.min(bi[3], bk[3]) - Math.max(bi[1], bk[1]));
        const smaller = Math.min(area(bi), area(bk));
        if (smaller > 0 && (ix * iy) / smaller > containment) return true;
      }
      return false;
    });
    if (!suppressed) keep.push(i);
  }
  return keep;
}

export function clampBox(b: Box, width: number, height: number): Box {
  return [Math.min(Math.max(b[0], 0), width), Math.min(Math.max(b[1], 0), height), Math.min(Math.max(b[2], 0), width), Math.min(Math.max(b[3], 0), height)];
}

/** Index of the face with the largest box, or -1 when there are none. */
export function largestFace(faces: readonly DetectedFace[]): number {
  let best = -1;
  let bestArea = -1;
  faces.forEach((f, i) => {
    const a = area(f.bbox);
    if (a > bestArea) {
      bestArea = a;
      best = i;
    }
  });
  return best;
}

/**
 * For reference photos: the largest face must clearly dominate. Two faces whose areas are
 * within `ratio` of each other make the photo ambiguous (which one is the character?).
 * Returns how many faces are that close to the largest (1 = unambiguous).
 */
export function similarToLargest(faces: readonly DetectedFace[], ratio = 0.7): number {
  if (faces.length < 2) return faces.length;
  const areas = faces.map((f) => area(f.bbox)).sort((a, b) => b - a);
  return areas.filter((a) => a >= areas[0]! * ratio).length;
}

/** Unit-length copy (embeddings are compared by cosine = dot product). */
export function l2normalize(v: Float32Array): Float32Array {
  let s = 0;
  for (const x of v) s += x * x;
  const n = Math.sqrt(s) || 1;
  return v.map((x) => x / n);
}

/**
 * Whether a face's 5 landmarks say it is upright in the image: the eyes in template order
 * (left_eye left of right_eye) on a line within 45 degrees of horizontal, and the mouth below
 * the eyes within 45 degrees of vertical. Landmarks from a backend that names them by anatomy
 * (human's mesh, SCRFD) fail this on a face turned a quarter or half turn. All-zero landmarks
 * (a detector asked not to compute them) are "unknown", taken as upright.
 */
export function landmarksUpright(l: Landmarks5): boolean {
  const pts = [l.left_eye, l.right_eye, l.nose, l.mouth_left, l.mouth_right];
  if (pts.every((p) => p[0] === 0 && p[1] === 0)) return true;
  const ex = l.right_eye[0] - l.left_eye[0],
    ey = l.right_eye[1] - l.left_eye[1];
  const dx = (l.mouth_left[0] + l.mouth_right[0] - l.left_eye[0] - l.right_eye[0]) / 2,
    dy = (l.mouth_left[1] + l.mouth_right[1] - l.left_eye[1] - l.right_eye[1]) / 2;
  return ex > Math.abs(ey) && dy > Math.abs(dx);
}
