/**
 * SCRFD (InsightFace det_10g) pre- and post-processing, as in insightface/model_zoo/scrfd.py:
 * letterbox the image into a 640x640 canvas (top-left, aspect kept, zero padding), feed RGB
 * as (x - 127.5) / 128 in NCHW, then per stride 8/16/32 decode 2 anchors per cell:
 * box = centre -/+ distances (distance2bbox), 5 keypoints = centre + offsets (distance2kps),
 * all in units of the stride. Score threshold, divide by the letterbox scale, NMS.
 */
import sharp from "sharp";
import { nms, type Box } from "../geometry.ts";
import type { DetectedFace, Point, RgbImage } from "../types.ts";
import { landmarksFromPoints } from "../types.ts";

export const SCRFD_INPUT = 640;
export const SCRFD_STRIDES = [8, 16, 32] as const;
export const SCRFD_ANCHORS = 2;

export interface Letterbox {
  /** NCHW float32, 1x3xSxS. */
  tensor: Float32Array;
  size: number;
  /** resized / source: divide decoded coordinates by it. */
  scale: number;
  resizedWidth: number;
  resizedHeight: number;
}

/** Resized size as scrfd.py computes it (int() truncation). */
export function letterboxSize(width: number, height: number, size = SCRFD_INPUT): { w: number; h: number; scale: number } {
  const imRatio = height / width;
  let w: number;
  let h: number;
  if (imRatio > 1) {
    h = size;
    w = Math.max(1, Math.trunc(h / imRatio));
  } else {
    w = size;
    h = Math.max(1, Math.trunc(w * imRatio));
  }
  return { w, h, scale: h / height };
}

export async function letterbox(image: RgbImage, size = SCRFD_INPUT): Promise<Letterbox> {
  const { w, h, scale } = letterboxSize(image.width, image.height, size);
  const resized = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(w, h, { fit: "fill", kernel: "linear" })
    .raw()
    .toBuffer();
  const plane = size * size;
  const tensor = new Float32Array(3 * plane);
  // Padding pixels are 0 in the canvas, i.e. (0 - 127.5) / 128 after normalisation.
  tensor.fill(-127.5 / 128);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const s = (y * w + x) * 3;
      const d = y * size + x;
      tensor[d] = (resized[s]! - 127.5) / 128;
      tensor[plane + d] = (resized[s + 1]! - 127.5) / 128;
      tensor[2 * plane + d] = (resized[s + 2]! - 127.5) / 128;
    }
  }
  return { tensor, size, scale, resizedWidth: w, resizedHeight: h };
}

/** Anchor centres (x, y) for one stride: row-major cells, each repeated `anchors` times. */
export function anchorCenters(size: number, stride: number, anchors = SCRFD_ANCHORS): Float32Array {
  const n = Math.ceil(size / stride);
  const out = new Float32Array(n * n * anchors * 2);
  let k = 0;
  for (let y = 0; y < n; y++)
    for (let x = 0; x < n; x++)
      for (let a = 0; a < anchors; a++) {
        out[k++] = x * stride;
        out[k++] = y * stride;
      }
  return out;
}

/** One stride's raw outputs: scores [N], boxes [N*4] and kps [N*10] (distances in stride units). */
export interface StrideOutputs {
  stride: number;
  scores: Float32Array;
  boxes: Float32Array;
  kps?: Float32Array;
}

export interface DecodeOptions {
  scoreThreshold?: number;
  nmsThreshold?: number;
  inputSize?: number;
  scale: number;
  maxFaces?: number;
}

export function decodeScrfd(outputs: StrideOutputs[], opts: DecodeOptions): DetectedFace[] {
  const size = opts.inputSize ?? SCRFD_INPUT;
  const thr = opts.scoreThreshold ?? 0.5;
  const boxes: Box[] = [];
  const scores: number[] = [];
  const kpss: Point[][] = [];
  for (const o of outputs) {
    const centers = anchorCenters(size, o.stride);
    const n = centers.length / 2;
    if (o.scores.length !== n || o.boxes.length !== n * 4 || (o.kps && o.kps.length !== n * 10)) {
      throw new Error(`stride ${o.stride}: expected ${n} anchors, got scores ${o.scores.length}, boxes ${o.boxes.length / 4}`);
    }
    for (let i = 0; i < n; i++) {
      const s = o.scores[i]!;
      if (!(s >= thr)) continue;
      const cx = centers[2 * i]!;
      const cy = centers[2 * i + 1]!;
      const d = (j: number) => o.boxes[4 * i + j]! * o.stride;
      boxes.push([(cx - d(0)) / opts.scale, (cy - d(1)) / opts.scale, (cx + d(2)) / opts.scale, (cy + d(3)) / opts.scale]);
      scores.push(s);
      const pts: Point[] = [];
      for (let k = 0; k < 5; k++) {
        const kx = o.kps ? o.kps[10 * i + 2 * k]! * o.stride : 0;
        const ky = o.kps ? o.kps[10 * i + 2 * k + 1]! * o.stride : 0;
        pts.push([(cx + kx) / opts.scale, (cy + ky) / opts.scale]);
      }
      kpss.push(pts);
    }
  }
  const keep = nms(boxes, scores, opts.nmsThreshold ?? 0.4).slice(0, opts.maxFaces ?? 500);
  return keep.map((i) => ({ bbox: boxes[i]!, confidence: scores[i]!, landmarks: landmarksFromPoints(kpss[i]!) }));
}
