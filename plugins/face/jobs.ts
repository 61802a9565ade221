/**
 * The three job types on top of any FaceBackend. Result shapes are the plugin's public
 * contract (see README.md); coordinates are source-image pixels after EXIF rotation.
 */
import { FarmError } from "../../core/errors.ts";
import type { TaskContext } from "../../core/plugin-contract.ts";
import { largestFace, similarToLargest } from "./geometry.ts";
import { loadArtifactImage } from "./image-decode.ts";
import { detectorParam, faceIndex, imageKey, imageKeys, optionalBool } from "./params.ts";
import type { DetectedFace, FaceBackend, Landmarks5, RgbImage } from "./types.ts";

/** Faces plus the name of the detector net that found them (reported as `detector`). */
async function detectFaces(backend: FaceBackend, image: RgbImage, signal: AbortSignal, opts: { landmarks?: boolean; detector?: "fast" | "accurate" }): Promise<{ faces: DetectedFace[]; detector: string }> {
  if (backend.detectReport) return backend.detectReport(image, signal, opts);
  return { faces: await backend.detect(image, signal, opts), detector: backend.defaultDetector ?? backend.model };
}

const r2 = (x: number) => Math.round(x * 100) / 100;
const box = (b: DetectedFace["bbox"]): [number, number, number, number] => [r2(b[0]), r2(b[1]), r2(b[2]), r2(b[3])];
const lms = (l: Landmarks5): Landmarks5 => ({
  left_eye: [r2(l.left_eye[0]), r2(l.left_eye[1])],
  right_eye: [r2(l.right_eye[0]), r2(l.right_eye[1])],
  nose: [r2(l.nose[0]), r2(l.nose[1])],
  mouth_left: [r2(l.mouth_left[0]), r2(l.mouth_left[1])],
  mouth_right: [r2(l.mouth_right[0]), r2(l.mouth_right[1])],
});

export interface FaceJson { bbox: [number, number, number, number]; confidence: number; landmarks?: Landmarks5 }

export async function runDetect(backend: FaceBackend, params: Record<string, unknown>, ctx: TaskContext): Promise<Record<string, unknown>> {
  const key = imageKey(params);
  const withLandmarks = optionalBool(params, "return_landmarks", true);
  const mode = detectorParam(params);
  const image = await loadArtifactImage(ctx.artifacts, key, ctx.workDir);
  ctx.progress(20, "Detecting faces");
  const { faces, detector } = await detectFaces(backend, image, ctx.signal, { landmarks: withLandmarks, detector: mode });
  ctx.progress(100, `${faces.length} face(s)`);
  return {
    face_detected: faces.length > 0,
    face_count: faces.length,
    faces: faces.map((f): FaceJson => (withLandmarks ? { bbox: box(f.bbox), confidence: Math.round(f.confidence * 10000) / 10000, landmarks: lms(f.landmarks) } : { bbox: box(f.bbox), confidence: Math.round(f.confidence * 10000) / 10000 })),
    model: backend.model,
    detector,
    image_size: [image.width, image.height],
  };
}

export async function runEmbed(backend: FaceBackend, params: Record<string, unknown>, ctx: TaskContext): Promise<Record<string, unknown>> {
  const key = imageKey(params);
  const which = faceIndex(params);
  const mode = detectorParam(params);
  const image = await loadArtifactImage(ctx.artifacts, key, ctx.workDir);
  ctx.progress(10, "Detecting faces");
  const { faces, detector } = await detectFaces(backend, image, ctx.signal, { detector: mode });
  if (faces.length === 0) throw new FarmError("VALIDATION_ERROR", "no face found in image", { field: "image", constraint: "contains a face" });
  const i = which === "largest" ? largestFace(faces) : which;
  const face = faces[i];
  if (!face) throw new FarmError("VALIDATION_ERROR", `face_index ${i} out of range: ${faces.length} face(s) found`, { field: "face_index", constraint: `< ${faces.length}` });
  ctx.progress(60, "Embedding face");
  const emb = await backend.embed(image, face);
  ctx.progress(100, "Done");
  return {
    embedding: Array.from(emb),
    embedding_dim: emb.length,
    model: backend.model,
    detector,
    bbox: box(face.bbox),
    face_index: i,
    face_count: faces.length,
    confidence: Math.round(face.confidence * 10000) / 10000,
  };
}

export interface ReferenceResult {
  index: number;
  image: string;
  ok: boolean;
  embedding?: number[];
  bbox?: [number, number, number, number];
  /** Detector net that ran on this photo (absent when the image could not be read). */
  detector?: string;
  reason?: string;
}

/**
 * One embedding per reference photo, for character registration. A photo is refused (not
 * the whole job) when it has no face or when two faces of similar size make it unclear
 * which one is the character; otherwise the largest face is used.
 */
export async function runEmbedReferences(backend: FaceBackend, params: Record<string, unknown>, ctx: TaskContext): Promise<Record<string, unknown>> {
  const keys = imageKeys(params);
  const mode = detectorParam(params);
  const results: ReferenceResult[] = [];
  for (const [index, key] of keys.entries()) {
    if (ctx.signal.aborted) throw new FarmError("JOB_CANCELLED", "cancelled");
    ctx.progress(Math.round((index / keys.length) * 100), `Reference ${index + 1}/${keys.length}`);
    let faces: DetectedFace[];
    let detector: string;
    let image;
    try {
      image = await loadArtifactImage(ctx.artifacts, key, ctx.workDir, `images[${index}]`);
      ({ faces, detector } = await detectFaces(backend, image, ctx.signal, { detector: mode }));
    } catch (err) {
      if (err instanceof FarmError && err.code === "VALIDATION_ERROR") {
        results.push({ index, image: key, ok: false, reason: err.message });
        continue;
      }
      throw err;
    }
    if (faces.length === 0) { results.push({ index, image: key, ok: false, detector, reason: "no face found" }); continue; }
    const similar = similarToLargest(faces);
    if (similar > 1) { results.push({ index, image: key, ok: false, detector, reason: `${similar} faces of similar size: ambiguous` }); continue; }
    const face = faces[largestFace(faces)]!;
    const emb = await backend.embed(image, face);
    results.push({ index, image: key, ok: true, embedding: Array.from(emb), bbox: box(face.bbox), detector });
  }
  ctx.progress(100, "Done");
  return { model: backend.model, embedding_dim: backend.embeddingDim, results, ok_count: results.filter((r) => r.ok).length };
}
