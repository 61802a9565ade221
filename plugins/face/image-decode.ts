/**
 * Image input: fetch an artifact into the task's work dir and decode it with sharp to
 * packed RGB, honouring EXIF orientation. limitInputPixels stays on (decompression bombs).
 */
import path from "node:path";
import sharp from "sharp";
import { FarmError } from "../../core/errors.ts";
import type { ArtifactStore } from "../../core/artifact-store.ts";
import type { RgbImage } from "./types.ts";

/** 64 Mpx: far above any photo worth scanning for faces, far below a bomb. */
export const MAX_INPUT_PIXELS = 64 * 1024 * 1024;

export async function decodeImage(input: string | Buffer, field = "image"): Promise<RgbImage> {
  try {
    const { data, info } = await sharp(input, { limitInputPixels: MAX_INPUT_PIXELS })
      .rotate()
      .removeAlpha()
      .toColourspace("srgb")
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`expected 3 channels, got ${info.channels}`);
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (err) {
    throw new FarmError("VALIDATION_ERROR", `${field}: not a decodable image (${(err as Error).message})`, {
      field,
      constraint: "image",
    });
  }
}

/**
 * Default work cap: the long side detection works on. 4096 px keeps 60 px faces of a 4000 px
 * photo at full size and bounds the tiled SSD scan to 5x5 tiles of 1024 px (~12 s of one
 * core); an 8000x8000 PNG (121 tiles, about a minute) is shrunk first instead.
 */
export const DEFAULT_MAX_SIDE = 4096;

/** A decoded image capped at `maxSide` on its long side, with its source size and the scale applied. */
export interface CappedImage {
  image: RgbImage;
  scale: number;
  sourceWidth: number;
  sourceHeight: number;
}

/**
 * Decode with the work cap: the shrink happens inside sharp's decode (JPEG shrink-on-load,
 * streamed PNG), so a huge input never becomes a full-size RGB buffer here.
 */
export async function decodeCapped(input: string | Buffer, field = "image", maxSide = DEFAULT_MAX_SIDE): Promise<CappedImage> {
  let meta;
  try {
    meta = await sharp(input, { limitInputPixels: MAX_INPUT_PIXELS }).metadata();
  } catch (err) {
    throw new FarmError("VALIDATION_ERROR", `${field}: not a decodable image (${(err as Error).message})`, { field, constraint: "image" });
  }
  // EXIF orientations 5-8 swap width and height.
  const swap = (meta.orientation ?? 1) >= 5;
  const sourceWidth = (swap ? meta.height : meta.width) ?? 0;
  const sourceHeight = (swap ? meta.width : meta.height) ?? 0;
  if (!(sourceWidth > 0 && sourceHeight > 0) || Math.max(sourceWidth, sourceHeight) <= maxSide) {
    const image = await decodeImage(input, field);
    return { image, scale: 1, sourceWidth: image.width, sourceHeight: image.height };
  }
  try {
    const { data, info } = await sharp(input, { limitInputPixels: MAX_INPUT_PIXELS })
      .rotate()
      .resize(maxSide, maxSide, { fit: "inside", kernel: "lanczos3" })
      .removeAlpha()
      .toColourspace("srgb")
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`expected 3 channels, got ${info.channels}`);
    const image = { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
    return { image, scale: info.width / sourceWidth, sourceWidth, sourceHeight };
  } catch (err) {
    throw new FarmError("VALIDATION_ERROR", `${field}: not a decodable image (${(err as Error).message})`, { field, constraint: "image" });
  }
}

/** Download artifact `key` into `workDir` and decode it (capped). Missing key -> VALIDATION_ERROR on `field`. */
export async function loadArtifactCapped(
  store: ArtifactStore,
  key: string,
  workDir: string,
  field = "image",
  maxSide = DEFAULT_MAX_SIDE,
): Promise<CappedImage> {
  return decodeCapped(await fetchArtifact(store, key, workDir, field), field, maxSide);
}

/** Download artifact `key` into `workDir` and decode it. Missing key -> VALIDATION_ERROR on `field`. */
export async function loadArtifactImage(store: ArtifactStore, key: string, workDir: string, field = "image"): Promise<RgbImage> {
  return decodeImage(await fetchArtifact(store, key, workDir, field), field);
}

async function fetchArtifact(store: ArtifactStore, key: string, workDir: string, field: string): Promise<string> {
  let info;
  try {
    info = await store.stat(key);
  } catch (err) {
    throw new FarmError("VALIDATION_ERROR", `${field}: invalid artifact key '${key}' (${(err as Error).message})`, { field, constraint: "artifact_key" });
  }
  if (!info) throw new FarmError("VALIDATION_ERROR", `${field}: artifact '${key}' does not exist`, { field, constraint: "exists" });
  const local = path.join(workDir, `face-input-${Math.random().toString(36).slice(2)}${path.extname(key)}`);
  await store.getToFile(key, local);
  return local;
}
