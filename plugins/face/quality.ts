/**
 * Quality signals of one detected face, measured on the face itself: the 112x112 crop aligned
 * to the ArcFace 5-point template (the crop faceplugin-fr describes), so background and frame
 * size do not count. face.embed and face.embed_references report them; core/characters/
 * quality.ts decides from them whether a face can be verified at all.
 *
 * Why: on the dev split of the face evaluation set the most similar strangers under the
 * fusion model were dark, noisy copies of different people (mean grey 26-57 of 255), which
 * the descriptors map close together; they set the FMR-0 threshold (CALIBRATION.md, "quality
 * gate"). Brightness is what separates them; sharpness is reported for information (noise
 * raises it, so it does not find them).
 */
import { ARCFACE_SIZE, ARCFACE_TEMPLATE, estimateSimilarity, warpAffine } from "./insightface/align.ts";
import type { DetectedFace, RgbImage } from "./types.ts";
import { landmarksToPoints } from "./types.ts";

export interface FaceQuality {
  /** Mean grey level (0-255) of the aligned face crop. */
  brightness: number;
  /** Variance of the 4-neighbour Laplacian over the crop's inner 80x80 (low: blurred; noise raises it). */
  sharpness: number;
}

/** Brightness and sharpness of an aligned size x size RGB crop. */
export function cropQuality(rgb: Uint8Array, size = ARCFACE_SIZE): FaceQuality {
  const g = new Float32Array(size * size);
  let bright = 0;
  for (let i = 0; i < g.length; i++) {
    g[i] = 0.299 * rgb[i * 3]! + 0.587 * rgb[i * 3 + 1]! + 0.114 * rgb[i * 3 + 2]!;
    bright += g[i]!;
  }
  // Inner square only: the template's corners hold background or the warp's black fill.
  const m = Math.round(size / 7);
  let sum = 0,
    sum2 = 0,
    n = 0;
  for (let y = m; y < size - m; y++) {
    for (let x = m; x < size - m; x++) {
      const l = g[(y - 1) * size + x]! + g[(y + 1) * size + x]! + g[y * size + x - 1]! + g[y * size + x + 1]! - 4 * g[y * size + x]!;
      sum += l;
      sum2 += l * l;
      n++;
    }
  }
  return { brightness: bright / g.length, sharpness: sum2 / n - (sum / n) ** 2 };
}

/** Quality of `face` in `image` (the frame the face was detected in), rounded for the job result. */
export function faceQuality(image: RgbImage, face: DetectedFace): FaceQuality {
  const crop = warpAffine(image, estimateSimilarity(landmarksToPoints(face.landmarks), ARCFACE_TEMPLATE), ARCFACE_SIZE);
  const q = cropQuality(crop.data, crop.width);
  return { brightness: Math.round(q.brightness * 10) / 10, sharpness: Math.round(q.sharpness) };
}
