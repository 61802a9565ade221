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

/** Download artifact `key` into `workDir` and decode it. Missing key -> VALIDATION_ERROR on `field`. */
export async function loadArtifactImage(store: ArtifactStore, key: string, workDir: string, field = "image"): Promise<RgbImage> {
  let info;
  try {
    info = await store.stat(key);
  } catch (err) {
    throw new FarmError("VALIDATION_ERROR", `${field}: invalid artifact key '${key}' (${(err as Error).message})`, { field, constraint: "artifact_key" });
  }
  if (!info) throw new FarmError("VALIDATION_ERROR", `${field}: artifact '${key}' does not exist`, { field, constraint: "exists" });
  const local = path.join(workDir, `face-input-${Math.random().toString(36).slice(2)}${path.extname(key)}`);
  await store.getToFile(key, local);
  return decodeImage(local, field);
}
