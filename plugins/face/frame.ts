/**
 * The working frame detection runs in, and the way back to the caller's source image.
 *
 * Two things separate them: a work cap (images longer than `max_side` are shrunk before
 * detection, so an 8000x8000 PNG costs the same as a 4096 px photo) and the rotation
 * search (a photo turned on its side without EXIF has no upright face until it is rotated).
 * Results are always reported in source-image pixels (after EXIF orientation), so a caller
 * never has to know which frame found the face.
 */
import type { DetectedFace, Landmarks5, Point, RgbImage } from "./types.ts";

/** Clockwise quarter turns a working frame can have. */
export const ROTATIONS = [0, 90, 180, 270] as const;
export type Rotation = (typeof ROTATIONS)[number];

/** The image detection actually saw, and how it maps back to the source image. */
export interface WorkFrame {
  image: RgbImage;
  /** Working pixels per source pixel (<= 1; 1 when the image was not shrunk). */
  scale: number;
  /** Degrees the (shrunk) source image was turned clockwise to make `image`. */
  rotation: Rotation;
  /** Source image size (after EXIF orientation), as reported in `image_size`. */
  sourceWidth: number;
  sourceHeight: number;
  /** Grey border (working pixels, each side) added around the turned image (padImage); 0 when absent. */
  pad?: number;
}

/** Grey of the border padImage adds: mid-grey, no edge a detector could take for a face's outline. */
const PAD_GREY = 128;

/**
 * `image` inside a grey border of `pad` pixels on each side. Face-api's detectors miss a face
 * that fills the whole frame (a tight crop: 150 px crops of the held-out set); with room
 * around it they find it (scripts/face-eval/README.md, detection count).
 */
export function padImage(image: RgbImage, pad: number): RgbImage {
  const width = image.width + 2 * pad,
    height = image.height + 2 * pad;
  const data = new Uint8Array(width * height * 3).fill(PAD_GREY);
  const row = image.width * 3;
  for (let y = 0; y < image.height; y++) data.set(image.data.subarray(y * row, (y + 1) * row), ((y + pad) * width + pad) * 3);
  return { width, height, data };
}

/** `image` at half its size, each pixel the mean of a 2x2 block (an odd last row or column is dropped). */
export function halveImage(image: RgbImage): RgbImage {
  const width = Math.max(1, Math.floor(image.width / 2)),
    height = Math.max(1, Math.floor(image.height / 2));
  const src = image.data,
    row = image.width * 3;
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const a = Math.min(2 * y, image.height - 1) * row,
      b = Math.min(2 * y + 1, image.height - 1) * row;
    for (let x = 0; x < width; x++) {
      const i = Math.min(2 * x, image.width - 1) * 3,
        j = Math.min(2 * x + 1, image.width - 1) * 3,
        o = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) out[o + c] = (src[a + i + c]! + src[a + j + c]! + src[b + i + c]! + src[b + j + c]! + 2) >> 2;
    }
  }
  return { width, height, data: out };
}

/**
 * A `side` x `side` square around `box`, `factor` times the box's longer side, bilinear,
 * grey (PAD_GREY) where it reaches past the image. The half-turn check scores such a crop
 * (blazeface-score.ts): a fixed scale, the face at about a third of the crop, is what made
 * its score tell upright from upside down on tight crops too (factor 3 against the whole
 * image: CALIBRATION.md).
 */
export function faceCrop(image: RgbImage, box: DetectedFace["bbox"], factor: number, side: number): RgbImage {
  const span = Math.max(box[2] - box[0], box[3] - box[1], 1) * factor;
  const step = span / side,
    x0 = (box[0] + box[2]) / 2 - span / 2,
    y0 = (box[1] + box[3]) / 2 - span / 2;
  const { width: w, height: h, data: src } = image;
  const out = new Uint8Array(side * side * 3).fill(PAD_GREY);
  for (let v = 0; v < side; v++) {
    const sy = y0 + (v + 0.5) * step - 0.5;
    const iy = Math.floor(sy),
      fy = sy - iy;
    if (iy < 0 || iy + 1 >= h) continue;
    for (let u = 0; u < side; u++) {
      const sx = x0 + (u + 0.5) * step - 0.5;
      const ix = Math.floor(sx),
        fx = sx - ix;
      if (ix < 0 || ix + 1 >= w) continue;
      const a = (iy * w + ix) * 3,
        b = a + w * 3,
        o = (v * side + u) * 3;
      for (let c = 0; c < 3; c++) {
        const top = src[a + c]! * (1 - fx) + src[a + 3 + c]! * fx;
        const bottom = src[b + c]! * (1 - fx) + src[b + 3 + c]! * fx;
        out[o + c] = Math.round(top * (1 - fy) + bottom * fy);
      }
    }
  }
  return { width: side, height: side, data: out };
}

/**
 * `image` turned clockwise by `deg`. Plain byte copy (no resampling): ~10 ms per megapixel,
 * far below one detector pass, and exact, so boxes map back without drift.
 */
export function rotateRgb(image: RgbImage, deg: Rotation): RgbImage {
  if (deg === 0) return image;
  const { width: w, height: h, data } = image;
  const out = new Uint8Array(data.length);
  const nw = deg === 180 ? w : h;
  const nh = deg === 180 ? h : w;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      // Destination of source pixel (x, y) for a clockwise turn.
      let u: number, v: number;
      if (deg === 90) {
        u = h - 1 - y;
        v = x;
      } else if (deg === 180) {
        u = w - 1 - x;
        v = h - 1 - y;
      } else {
        u = y;
        v = w - 1 - x;
      }
      const s = (y * w + x) * 3;
      const d = (v * nw + u) * 3;
      out[d] = data[s]!;
      out[d + 1] = data[s + 1]!;
      out[d + 2] = data[s + 2]!;
    }
  }
  return { width: nw, height: nh, data: out };
}

/**
 * A point of the rotated working image back in the unrotated working image (continuous
 * coordinates: the inverse of the clockwise turn of a w x h image).
 */
export function unrotatePoint(p: Point, deg: Rotation, w: number, h: number): Point {
  const [u, v] = p;
  if (deg === 90) return [v, h - u];
  if (deg === 180) return [w - u, h - v];
  if (deg === 270) return [w - v, u];
  return [u, v];
}

/** A working-frame point in source pixels. */
export function toSourcePoint(frame: WorkFrame, p: Point): Point {
  const pad = frame.pad ?? 0;
  const w = frame.image.width - 2 * pad,
    h = frame.image.height - 2 * pad;
  const unrotatedW = frame.rotation === 90 || frame.rotation === 270 ? h : w;
  const unrotatedH = frame.rotation === 90 || frame.rotation === 270 ? w : h;
  // A point on the border clips to the source's edge below.
  const [x, y] = unrotatePoint([p[0] - pad, p[1] - pad], frame.rotation, unrotatedW, unrotatedH);
  return [Math.min(frame.sourceWidth, Math.max(0, x / frame.scale)), Math.min(frame.sourceHeight, Math.max(0, y / frame.scale))];
}

/** A working-frame box in source pixels (axis-aligned: quarter turns keep boxes boxes). */
export function toSourceBox(frame: WorkFrame, b: DetectedFace["bbox"]): DetectedFace["bbox"] {
  const a = toSourcePoint(frame, [b[0], b[1]]);
  const c = toSourcePoint(frame, [b[2], b[3]]);
  return [Math.min(a[0], c[0]), Math.min(a[1], c[1]), Math.max(a[0], c[0]), Math.max(a[1], c[1])];
}

/**
 * Landmarks in source pixels. Names keep their meaning on the face (left_eye is the eye on
 * the image's left when the face is upright, i.e. in the rotated view that found it).
 */
export function toSourceLandmarks(frame: WorkFrame, l: Landmarks5): Landmarks5 {
  return {
    left_eye: toSourcePoint(frame, l.left_eye),
    right_eye: toSourcePoint(frame, l.right_eye),
    nose: toSourcePoint(frame, l.nose),
    mouth_left: toSourcePoint(frame, l.mouth_left),
    mouth_right: toSourcePoint(frame, l.mouth_right),
  };
}
