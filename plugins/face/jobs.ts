/**
 * The three job types on top of any FaceBackend. Result shapes are the plugin's public
 * contract (see README.md); coordinates are source-image pixels after EXIF rotation, whatever
 * frame (work cap, rotation search) found the faces.
 */
import { FarmError } from "../../core/errors.ts";
import type { TaskContext } from "../../core/plugin-contract.ts";
import { halveImage, padImage, rotateRgb, toSourceBox, toSourceLandmarks, type Rotation, type WorkFrame } from "./frame.ts";

/** Turns tried after the upright image, clockwise degrees, in order. */
const TURNS = [90, 270, 180] as const;
import { landmarksUpright, largestFace, similarToLargest } from "./geometry.ts";
import { quarterTurnRefuted, upsideDown } from "./half-turn.ts";
import { DEFAULT_MAX_SIDE, loadArtifactCapped, type CappedImage } from "./image-decode.ts";
import { parseDetectParams, parseEmbedParams, parseEmbedReferencesParams } from "./params.ts";
import { faceQuality, type FaceQuality } from "./quality.ts";
import type { DetectedFace, DetectOpts, FaceBackend, Landmarks5, RgbImage } from "./types.ts";

/** Per-process settings from `plugins.face` config. */
export interface JobSettings {
  /** Work cap: long side detection runs on (config `max_side`). */
  maxSide: number;
  /** Default of the `rotation_search` param (config `rotation_search`). */
  rotationSearch: boolean;
}
export const DEFAULT_JOB_SETTINGS: JobSettings = { maxSide: DEFAULT_MAX_SIDE, rotationSearch: true };

interface Found {
  faces: DetectedFace[];
  detector: string;
  frame: WorkFrame;
}

/** Score at which the rotation-sensitive detector is taken to see an upright face (Tiny's own default threshold). */
const UPRIGHT_MIN = 0.5;

/**
 * Faces plus the detector net that found them, in the frame that found them.
 *
 * Rotation search (a photo stored sideways or upside down without an EXIF tag):
 * 1. The upright image first. Faces from the backend's rotation-sensitive detector
 *    (face-api: TinyFaceDetector, which does not fire on sideways faces) are upright, or
 *    upside down (Tiny does fire on those): step 6 tells which.
 * 2. SSD does fire on turned faces, and the landmark net then draws an upright-looking but
 *    wrong face, so the embedding is wrong. When the upright image has faces only from SSD
 *    and Tiny sees no upright face there (score < 0.5), the turns 90, 270, 180 (sideways first:
 *    phone photos saved without EXIF are mostly a quarter turn off) are scored by Tiny, and
 *    the first turn where Tiny finds and trusts a face wins, unless BlazeFace refutes a
 *    quarter turn (the SSD face scores clearly better as stored: half-turn.ts). Group photos with small faces
 *    never switch (Tiny does not trust small faces), they only pay the probes (~90 ms each).
 * 3. No face at all upright: each turn gets the full detector (without tiles); the first with a face wins.
 *    A photo without any face costs four detector passes, the price of not answering
 *    "no face" for a sideways portrait.
 * 4. Backends without an upright detector (human's blazeface, which rotates its own crops,
 *    and SCRFD) do find sideways faces, but their landmarks there are poor, and the aligned
 *    descriptor of such a face matched strangers (dev set, faceplugin-fr: a turned photo at
 *    0.77 against a stranger set the FMR-0 point). When the largest face's landmarks are not
 *    upright (geometry.ts landmarksUpright), each turn gets the full detector and the first
 *    whose largest face is upright wins; none upright keeps the upright-image answer.
 * 5. Still no face: steps 1-4 once more on the image inside a grey border (tight crops).
 * 6. Faces found at some turn by a backend that can score crops with BlazeFace (face-api,
 *    human): unless Tiny trusted them highly, BlazeFace scores a crop of the largest face against the same crop turned 180
 *    degrees, and a clearly better turned crop moves the answer to the opposite turn
 *    (half-turn.ts). This puts right photos stored upside down, and sideways ones whose
 *    first Tiny probe landed on the upside-down side.
 */
async function detectFaces(backend: FaceBackend, src: CappedImage, signal: AbortSignal, opts: DetectOpts, rotationSearch: boolean): Promise<Found> {
  let at = detectAt(backend, src, signal);
  let found = await searchTurns(backend, src, at, signal, opts, rotationSearch);
  if (found.faces.length === 0) {
    // 5. No face at any turn: the search once more on the image inside a grey border (a tight
    //    crop, the face filling the frame). Only the "no face" answer pays these passes.
    const b = borderedSearch(backend, src, signal, opts);
    at = b.at;
    const again = await searchTurns(backend, b.padded, at, signal, b.opts, rotationSearch);
    if (again.faces.length === 0) return found;
    found = again;
  }
  // 6. Which way up: face-api's upright detector (Tiny) also fires upside down, and human's mesh
  //    draws an upright face on an upside-down one; BlazeFace decides (half-turn.ts).
  if (rotationSearch && (await upsideDown(backend, found, signal))) {
    const opposite = ((found.frame.rotation + 180) % 360) as Rotation;
    const turned = await at(opposite, opts);
    if (turned.faces.length > 0) return turned;
    // A tight crop Tiny took upside down: the right way up it needs the border too.
    if (!found.frame.pad) {
      const b = borderedSearch(backend, src, signal, opts);
      const r = await b.at(opposite, b.opts);
      if (r.faces.length > 0) return r;
    }
  }
  return found;
}

/**
 * The source inside a grey border of PAD_FRACTION of its long side, with the detection call and
 * options the search runs on it.
 * A source longer than BORDER_HALVE_ABOVE is halved first: the detectors shrink their input
 * anyway (Tiny to 416, SSD to 512), while a bordered image of twice the sides cost four times
 * as much per pass, more past 2048 px where SSD adds tiles (a 3000 px photo with no face took
 * 39 s with one bordered pass, 100 s with the whole search on it). Small sources keep their
 * pixels: the tight crops the border is for are small, and their faces are embedded from
 * this frame.
 */
function borderedSearch(
  backend: FaceBackend,
  src: CappedImage,
  signal: AbortSignal,
  opts: DetectOpts,
): { padded: CappedImage; at: DetectAt; opts: DetectOpts } {
  const long = Math.max(src.image.width, src.image.height);
  const half = long > BORDER_HALVE_ABOVE;
  const image = half ? halveImage(src.image) : src.image;
  const pad = Math.round(Math.max(image.width, image.height) * PAD_FRACTION);
  const padded: CappedImage = { ...src, image: padImage(image, pad), scale: half ? src.scale / 2 : src.scale };
  // No tiles: the faces the border is for fill the frame.
  return { padded, at: detectAt(backend, padded, signal, pad), opts: { ...opts, tiles: false } };
}
const BORDER_HALVE_ABOVE = 1024;

type DetectAt = (rotation: Rotation, o: DetectOpts, image?: RgbImage) => Promise<Found>;

/**
 * Detection on the source image turned by `rotation` (or on `image`, that turn already made).
 * `pad`: the source is a padded copy (padImage) with this border, recorded in each frame.
 */
function detectAt(backend: FaceBackend, src: CappedImage, signal: AbortSignal, pad?: number): DetectAt {
  return async (rotation, o, image = rotateRgb(src.image, rotation)) => {
    if (signal.aborted) throw new FarmError("JOB_CANCELLED", "face detection cancelled");
    const frame: WorkFrame = { image, scale: src.scale, rotation, sourceWidth: src.sourceWidth, sourceHeight: src.sourceHeight, ...(pad ? { pad } : {}) };
    const r = backend.detectReport
      ? await backend.detectReport(image, signal, o)
      : { faces: await backend.detect(image, signal, o), detector: backend.defaultDetector ?? backend.model };
    return { ...r, frame };
  };
}

/**
 * Border added on each side for the last try, as a fraction of the long side. Held-out's
 * missed crops and LFW misses (32, face-api fast): 30 found with 0.5, 27 with 0.25, grey and
 * edge colour alike (scratch check, 2026-12-04).
 */
const PAD_FRACTION = 0.5;

/** Steps 1-4 of detectFaces' rotation search. */
async function searchTurns(
  backend: FaceBackend,
  src: CappedImage,
  at: DetectAt,
  signal: AbortSignal,
  opts: DetectOpts,
  rotationSearch: boolean,
): Promise<Found> {
  const first = await at(0, opts);
  if (!rotationSearch) return first;
  const upright = backend.uprightDetector;
  if (!upright) return uprightByLandmarks(first, (rotation) => at(rotation, opts));
  if (first.faces.length > 0 && first.detector === upright) return first;
  if (backend.uprightScore && upright) {
    if (first.faces.length > 0 && (await backend.uprightScore(first.frame.image, signal)) >= UPRIGHT_MIN) return first;
    for (const rotation of TURNS) {
      const image = rotateRgb(src.image, rotation);
      if ((await backend.uprightScore(image, signal)) < UPRIGHT_MIN) continue;
      const probe = await at(rotation, { ...opts, detector: "fast" }, image);
      if (probe.faces.length === 0 || probe.detector !== upright) continue;
      // A sideways probe against faces found as stored: BlazeFace may refute it (half-turn.ts).
      if (first.faces.length > 0 && rotation !== 180 && (await quarterTurnRefuted(backend, first, rotation, signal))) continue;
      // An "accurate" request gets its own detector on the turn that was found upright.
      return opts.detector === "accurate" ? at(rotation, opts, image) : probe;
    }
  }
  if (first.faces.length > 0) return first;
  // Without tiles: the upright pass scanned them, and SSD finds turned faces too, so a face
  // only a turned tile scan finds is rare, while tiles made most of a no-face answer's cost
  // (a 3000 px photo: four tiled passes, ~20 s at load 2).
  for (const rotation of TURNS) {
    const r = await at(rotation, { ...opts, tiles: false });
    if (r.faces.length > 0) return r;
  }
  return first;
}

/**
 * Step 4 of detectFaces: the upright image's answer when its largest face is upright at a
 * confident score. Otherwise the turn that would bring the mouth below the eyes is tried first
 * (mouth to the image's left of the eyes: 270, right: 90, above: 180) and wins outright when
 * its face is upright and confident. Otherwise every turn is scored and the upright largest
 * face with the highest detector score wins: human's mesh also draws an "upright" face on an
 * upside-down one, at a low score (dev: 0.38-0.71 against 1.00 for the true turn).
 */
async function uprightByLandmarks(first: Found, at: (rotation: Rotation) => Promise<Found>): Promise<Found> {
  const lead = (r: Found) => r.faces[largestFace(r.faces)];
  const uprightScore = (r: Found) => {
    const f = lead(r);
    return f && landmarksUpright(f.landmarks) ? f.confidence : -1;
  };
  if (uprightScore(first) >= CONFIDENT_TURN) return first;
  const l = lead(first)?.landmarks;
  let likely: Rotation | undefined;
  if (l) {
    const dx = (l.mouth_left[0] + l.mouth_right[0] - l.left_eye[0] - l.right_eye[0]) / 2,
      dy = (l.mouth_left[1] + l.mouth_right[1] - l.left_eye[1] - l.right_eye[1]) / 2;
    likely = Math.abs(dx) > Math.abs(dy) ? (dx < 0 ? 270 : 90) : 180;
  }
  // No upright face anywhere: the upright image's faces, else the first turn with any face (step 3's answer).
  let best = first.faces.length > 0 ? first : undefined,
    bestScore = uprightScore(first);
  // A low-score upright face is rechecked too: a quarter-turned face drawn upright by the mesh, at 45 degrees.
  for (const rotation of likely === undefined || bestScore >= 0 ? TURNS : [likely, ...TURNS.filter((t) => t !== likely)]) {
    const r = await at(rotation);
    const score = uprightScore(r);
    if (rotation === likely && score >= CONFIDENT_TURN) return r;
    if (score > bestScore || (!best && r.faces.length > 0)) [best, bestScore] = [r, Math.max(score, bestScore)];
  }
  return best ?? first;
}
/** Detector score at which the predicted turn's upright face is taken without trying the others. */
const CONFIDENT_TURN = 0.9;

const r2 = (x: number) => Math.round(x * 100) / 100;
const box = (frame: WorkFrame, b: DetectedFace["bbox"]): [number, number, number, number] => {
  const s = toSourceBox(frame, b);
  return [r2(s[0]), r2(s[1]), r2(s[2]), r2(s[3])];
};
const lms = (frame: WorkFrame, raw: Landmarks5): Landmarks5 => {
  const l = toSourceLandmarks(frame, raw);
  return {
    left_eye: [r2(l.left_eye[0]), r2(l.left_eye[1])],
    right_eye: [r2(l.right_eye[0]), r2(l.right_eye[1])],
    nose: [r2(l.nose[0]), r2(l.nose[1])],
    mouth_left: [r2(l.mouth_left[0]), r2(l.mouth_left[1])],
    mouth_right: [r2(l.mouth_right[0]), r2(l.mouth_right[1])],
  };
};

export interface FaceJson {
  bbox: [number, number, number, number];
  confidence: number;
  landmarks?: Landmarks5;
}

export async function runDetect(
  backend: FaceBackend,
  params: Record<string, unknown>,
  ctx: TaskContext,
  settings: JobSettings = DEFAULT_JOB_SETTINGS,
): Promise<Record<string, unknown>> {
  const p = parseDetectParams(params);
  const key = p.image;
  const withLandmarks = p.return_landmarks!;
  const rotationSearch = p.rotation_search ?? settings.rotationSearch;
  const mode = p.detector;
  const src = await loadArtifactCapped(ctx.artifacts, key, ctx.workDir, "image", settings.maxSide);
  ctx.progress(20, "Detecting faces");
  const { faces, detector, frame } = await detectFaces(backend, src, ctx.signal, { landmarks: withLandmarks, detector: mode }, rotationSearch);
  ctx.progress(100, `${faces.length} face(s)`);
  const conf = (f: DetectedFace) => Math.round(f.confidence * 10000) / 10000;
  return {
    face_detected: faces.length > 0,
    face_count: faces.length,
    faces: faces.map((f): FaceJson =>
      withLandmarks ? { bbox: box(frame, f.bbox), confidence: conf(f), landmarks: lms(frame, f.landmarks) } : { bbox: box(frame, f.bbox), confidence: conf(f) },
    ),
    model: backend.model,
    detector,
    rotation: frame.rotation,
    image_size: [src.sourceWidth, src.sourceHeight],
  };
}

export async function runEmbed(
  backend: FaceBackend,
  params: Record<string, unknown>,
  ctx: TaskContext,
  settings: JobSettings = DEFAULT_JOB_SETTINGS,
): Promise<Record<string, unknown>> {
  const p = parseEmbedParams(params);
  const key = p.image;
  const which = p.face_index!;
  const rotationSearch = p.rotation_search ?? settings.rotationSearch;
  const mode = p.detector;
  const src = await loadArtifactCapped(ctx.artifacts, key, ctx.workDir, "image", settings.maxSide);
  ctx.progress(10, "Detecting faces");
  const { faces, detector, frame } = await detectFaces(backend, src, ctx.signal, { detector: mode }, rotationSearch);
  if (faces.length === 0)
    throw new FarmError("VALIDATION_ERROR", rotationSearch ? "no face found in image (also tried rotated 90, 180 and 270 degrees)" : "no face found in image", {
      field: "image",
      constraint: "contains a face",
    });
  const i = which === "largest" ? largestFace(faces) : which;
  const face = faces[i];
  if (!face)
    throw new FarmError("VALIDATION_ERROR", `face_index ${i} out of range: ${faces.length} face(s) found`, {
      field: "face_index",
      constraint: `< ${faces.length}`,
    });
  ctx.progress(60, "Embedding face");
  const emb = await backend.embed(frame.image, face);
  ctx.progress(100, "Done");
  return {
    embedding: Array.from(emb),
    embedding_dim: emb.length,
    model: backend.model,
    detector,
    rotation: frame.rotation,
    bbox: box(frame, face.bbox),
    face_index: i,
    face_count: faces.length,
    confidence: Math.round(face.confidence * 10000) / 10000,
    // Brightness of the aligned face: core/characters/quality.ts refuses to verify a too-dark face.
    quality: faceQuality(frame.image, face),
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
  /** Clockwise turn (degrees) under which the face was found (rotation search). */
  rotation?: number;
  /** Quality of the face used (plugins/face/quality.ts). */
  quality?: FaceQuality;
  reason?: string;
}

/**
 * One embedding per reference photo, for character registration. A photo is refused (not
 * the whole job) when it has no face or when two faces of similar size make it unclear
 * which one is the character; otherwise the largest face is used.
 */
export async function runEmbedReferences(
  backend: FaceBackend,
  params: Record<string, unknown>,
  ctx: TaskContext,
  settings: JobSettings = DEFAULT_JOB_SETTINGS,
): Promise<Record<string, unknown>> {
  const p = parseEmbedReferencesParams(params);
  const keys = p.images;
  const rotationSearch = p.rotation_search ?? settings.rotationSearch;
  const mode = p.detector;
  const results: ReferenceResult[] = [];
  for (const [index, key] of keys.entries()) {
    if (ctx.signal.aborted) throw new FarmError("JOB_CANCELLED", "cancelled");
    ctx.progress(Math.round((index / keys.length) * 100), `Reference ${index + 1}/${keys.length}`);
    let found: Found;
    try {
      const src = await loadArtifactCapped(ctx.artifacts, key, ctx.workDir, `images[${index}]`, settings.maxSide);
      found = await detectFaces(backend, src, ctx.signal, { detector: mode }, rotationSearch);
    } catch (err) {
      if (err instanceof FarmError && err.code === "VALIDATION_ERROR") {
        results.push({ index, image: key, ok: false, reason: err.message });
        continue;
      }
      throw err;
    }
    const { faces, detector, frame } = found;
    if (faces.length === 0) {
      results.push({ index, image: key, ok: false, detector, reason: "no face found" });
      continue;
    }
    const similar = similarToLargest(faces);
    if (similar > 1) {
      results.push({ index, image: key, ok: false, detector, rotation: frame.rotation, reason: `${similar} faces of similar size: ambiguous` });
      continue;
    }
    const face = faces[largestFace(faces)]!;
    const emb = await backend.embed(frame.image, face);
    results.push({
      index,
      image: key,
      ok: true,
      embedding: Array.from(emb),
      bbox: box(frame, face.bbox),
      detector,
      rotation: frame.rotation,
      quality: faceQuality(frame.image, face),
    });
  }
  ctx.progress(100, "Done");
  return { model: backend.model, embedding_dim: backend.embeddingDim, results, ok_count: results.filter((r) => r.ok).length };
}
