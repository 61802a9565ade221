/**
 * ArcFace alignment: the similarity transform (rotation, uniform scale, translation) that
 * best maps the 5 detected landmarks onto the standard 112x112 ArcFace template, then an
 * inverse-mapped bilinear warp (cv2.warpAffine, border 0).
 *
 * The estimate is Umeyama's least-squares similarity without reflection. In 2-D it has a
 * closed form: treating points as complex numbers, the demeaned src p and dst q give
 * a = sum(conj(p) q) / sum(|p|^2) = s * e^(i*theta), t = mean(q) - a * mean(p); this is the
 * same minimiser skimage's SimilarityTransform.estimate (Umeyama) returns.
 */
import type { Point, RgbImage } from "../types.ts";

export const ARCFACE_SIZE = 112;
export const ARCFACE_TEMPLATE: readonly Point[] = [
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
];

/** 2x3 affine matrix [[a, b, tx], [c, d, ty]] mapping source to destination. */
export type Affine = [number, number, number, number, number, number];

export function estimateSimilarity(src: readonly Point[], dst: readonly Point[]): Affine {
  if (src.length !== dst.length || src.length < 2) throw new Error("need >= 2 matching points");
  const n = src.length;
  let spx = 0,
    spy = 0,
    sqx = 0,
    sqy = 0;
  for (let i = 0; i < n; i++) {
    spx += src[i]![0];
    spy += src[i]![1];
    sqx += dst[i]![0];
    sqy += dst[i]![1];
  }
  const mpx = spx / n,
    mpy = spy / n,
    mqx = sqx / n,
    mqy = sqy / n;
  let re = 0,
    im = 0,
    norm = 0;
  for (let i = 0; i < n; i++) {
    const px = src[i]![0] - mpx,
      py = src[i]![1] - mpy;
    const qx = dst[i]![0] - mqx,
      qy = dst[i]![1] - mqy;
    // conj(p) * q = (px - i py)(qx + i qy)
    re += px * qx + py * qy;
    im += px * qy - py * qx;
    norm += px * px + py * py;
  }
  if (norm === 0) throw new Error("degenerate landmarks (all points equal)");
  const a = re / norm,
    b = im / norm;
  return [a, -b, mqx - (a * mpx - b * mpy), b, a, mqy - (b * mpx + a * mpy)];
}

export function applyAffine(m: Affine, p: Point): Point {
  return [m[0] * p[0] + m[1] * p[1] + m[2], m[3] * p[0] + m[4] * p[1] + m[5]];
}

export function invertAffine(m: Affine): Affine {
  const [a, b, tx, c, d, ty] = m;
  const det = a * d - b * c;
  if (det === 0) throw new Error("singular transform");
  const ia = d / det,
    ib = -b / det,
    ic = -c / det,
    id = a / det;
  return [ia, ib, -(ia * tx + ib * ty), ic, id, -(ic * tx + id * ty)];
}

/** Warp `image` by `m` (source -> destination) into a size x size RGB image, bilinear, border 0. */
export function warpAffine(image: RgbImage, m: Affine, size = ARCFACE_SIZE): RgbImage {
  const inv = invertAffine(m);
  const out = new Uint8Array(size * size * 3);
  const { width: W, height: H, data } = image;
  const px = (x: number, y: number, c: number) => (x < 0 || y < 0 || x >= W || y >= H ? 0 : data[(y * W + x) * 3 + c]!);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const sx = inv[0] * x + inv[1] * y + inv[2];
      const sy = inv[3] * x + inv[4] * y + inv[5];
      const x0 = Math.floor(sx),
        y0 = Math.floor(sy);
      const fx = sx - x0,
        fy = sy - y0;
      for (let c = 0; c < 3; c++) {
        const v = px(x0, y0, c) * (1 - fx) * (1 - fy) + px(x0 + 1, y0, c) * fx * (1 - fy) + px(x0, y0 + 1, c) * (1 - fx) * fy + px(x0 + 1, y0 + 1, c) * fx * fy;
        out[(y * size + x) * 3 + c] = Math.round(v);
      }
    }
  }
  return { width: size, height: size, data: out };
}

/** ArcFace input: RGB, (x - 127.5) / 127.5, NCHW 1x3xSxS. */
export function arcfaceTensor(face: RgbImage): Float32Array {
  const plane = face.width * face.height;
  const t = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) t[c * plane + i] = (face.data[i * 3 + c]! - 127.5) / 127.5;
  return t;
}
