/**
 * The CPU default backend: face-api's detectors (TinyFaceDetector, SSD MobileNet v1), 68-point
 * landmark net and 128-d ResNet-34 descriptor on tfjs-wasm. Model id "face-api", no GPU.
 *
 * Two detector modes (README.md has the measurements):
 * - "fast" (default): TinyFaceDetector at 416 px, ~5x cheaper than SSD. Falls back to SSD when
 *   it finds nothing, when a face it found is small (< ~19% of the long side, where its
 *   misses are), or when the image is big enough to need tiles. Trade-off: on a portrait it
 *   can miss secondary faces cut by the frame edge that SSD still reports.
 * - "accurate": SSD MobileNet v1 at 512 px (plus tiles), always.
 * Results name the detector that produced the boxes ("tiny_face_detector" / "ssd_mobilenetv1").
 *
 * Small faces in big photos: SSD sees every input at 512x512, so a 60 px face in a 4000 px
 * photo shrinks to ~8 px and vanishes. Above `tileAbove` px on the long side the image is
 * also scanned in overlapping square tiles, and all boxes are merged by NMS (IoU plus
 * containment, since a tile edge can cut a face and leave a partial box inside the whole).
 */
import sharp from "sharp";
import { BlazeFaceScorer } from "./blazeface-score.ts";
import { loadFaceApi, type FaceApi, type FaLandmarks68, type TfTensor } from "./faceapi-loader.ts";
import { clampBox, l2normalize, nms, type Box } from "./geometry.ts";
import type { DetectedFace, FaceBackend, Point, RgbImage } from "./types.ts";
import { FarmError } from "../../core/errors.ts";

/** Detector mode: "fast" tries TinyFaceDetector first, "accurate" always runs SSD. */
export type FaceDetectorMode = "fast" | "accurate";
export const FACE_DETECTOR_MODES: readonly FaceDetectorMode[] = ["fast", "accurate"];
/** Names of the nets as reported in results (`detector`). */
export const TINY_DETECTOR = "tiny_face_detector";
export const SSD_DETECTOR = "ssd_mobilenetv1";

export interface FaceApiOptions {
  /** SSD score threshold. */
  minConfidence?: number;
  /** Default detector mode when a request names none. Default "fast". */
  detector?: FaceDetectorMode;
  /** TinyFaceDetector input side (multiple of 32: 320, 416, 512, 608). Default 416. */
  tinyInputSize?: number;
  /** TinyFaceDetector score threshold. Default 0.5. */
  tinyMinConfidence?: number;
  /**
   * "fast" falls back to SSD when any face Tiny found is narrower than this (SSD-style box
   * width, in pixels of Tiny's tinyInputSize input; 80 of 416 = a face ~19% of the long
   * side). Default 80: with faces that small in view, Tiny missed faces SSD found, once the
   * subject itself (README.md).
   */
  fastMinFace?: number;
  /** Long-side size above which tiles are scanned too. */
  tileAbove?: number;
  /** Tile side in source pixels. */
  tileSize?: number;
}

export interface DetectOptions {
  /** Run the landmark net (needed for landmarks in the result and for embedding). Default true. */
  landmarks?: boolean;
  /** Detector mode for this call; the backend's configured default otherwise. */
  detector?: FaceDetectorMode;
  /** false: no tile scan even above tileAbove (faces known to be large). Default true. */
  tiles?: boolean;
}

/** Faces plus the detector net that produced them. */
export interface DetectReport {
  faces: DetectedFace[];
  detector: string;
}

const mean = (pts: FaLandmarks68["positions"], from: number, to: number): Point => {
  let x = 0;
  let y = 0;
  for (let i = from; i <= to; i++) {
    x += pts[i]!.x;
    y += pts[i]!.y;
  }
  const n = to - from + 1;
  return [x / n, y / n];
};

/**
 * The five named points from the iBUG 68-point layout. "left"/"right" are as seen in the
 * image (left_eye has the smaller x on an upright face), matching SCRFD and the ArcFace
 * template: eyes = centres of points 36-41 / 42-47, nose tip = 30, mouth corners = 48 / 54.
 */
export function fiveFrom68(pts: FaLandmarks68["positions"]): DetectedFace["landmarks"] {
  if (pts.length < 68) throw new Error(`expected 68 landmarks, got ${pts.length}`);
  const p = (i: number): Point => [pts[i]!.x, pts[i]!.y];
  return { left_eye: mean(pts, 36, 41), right_eye: mean(pts, 42, 47), nose: p(30), mouth_left: p(48), mouth_right: p(54) };
}

export function tileGrid(width: number, height: number, tile: number, overlap = 0.25): Box[] {
  const starts = (len: number): number[] => {
    if (len <= tile) return [0];
    const step = tile * (1 - overlap);
    const n = Math.ceil((len - tile) / step) + 1;
    const s: number[] = [];
    for (let i = 0; i < n; i++) s.push(Math.round(Math.min(i * step, len - tile)));
    return [...new Set(s)];
  };
  const out: Box[] = [];
  for (const y of starts(height)) for (const x of starts(width)) out.push([x, y, Math.min(x + tile, width), Math.min(y + tile, height)]);
  return out;
}

/**
 * What embed() needs from detect(): the 68 landmarks. `positions` is their plain form, the
 * only one that survives a worker-thread message (class instances arrive as plain objects).
 */
interface Internal {
  landmarks68?: FaLandmarks68;
  positions?: { x: number; y: number }[];
}

/** The landmarks of a face in a form that can be posted to another thread. */
export function portableFace(face: DetectedFace): DetectedFace {
  const lm = (face.internal as Internal | undefined)?.landmarks68;
  return lm ? { ...face, internal: { positions: lm.positions.map((p) => ({ x: p.x, y: p.y })) } satisfies Internal } : { ...face, internal: undefined };
}

/**
 * TinyFaceDetector boxes -> SSD-style boxes. Tiny's boxes are wider than SSD's (towards the
 * ears) and reach further down (chin and neck); results keep one box convention whatever the
 * detector, and the landmark net is fed the same kind of crop it gets from SSD. Fitted on the
 * faces Tiny is trusted with (the fast path's large faces: 89 faces in 1000x1000 portraits cut
 * from the face-api demo photos at 2-3.5x the face box, README.md): medians SSD width = 0.80 x
 * Tiny width, height 1.02 x, centre 0.11 x Tiny height higher, centre x unchanged (-0.01,
 * within noise; kept 0 so a mirrored photo gives a mirrored box). Small faces (~40 px in
 * Tiny's input) differ (width 0.63 x), but those go to SSD anyway (fastMinFace).
 */
const TINY_TO_SSD = { width: 0.8, height: 1.02, dy: -0.11 } as const;

export function tinyToSsdBox(x: number, y: number, w: number, h: number): Box {
  const cx = x + w / 2;
  const cy = y + h / 2 + TINY_TO_SSD.dy * h;
  const nw = w * TINY_TO_SSD.width;
  const nh = h * TINY_TO_SSD.height;
  return [cx - nw / 2, cy - nh / 2, cx + nw / 2, cy + nh / 2];
}

/** SSD MobileNet v1 input side in face-api. */
const SSD_INPUT = 512;

export class FaceApiBackend implements FaceBackend {
  readonly model = "face-api";
  readonly embeddingDim = 128;
  readonly defaultDetector: string;
  readonly uprightDetector = TINY_DETECTOR;
  private readonly mode: FaceDetectorMode;
  private readonly tinyInputSize: number;
  private readonly tinyMinConfidence: number;
  private readonly fastMinFace: number;
  private readonly minConfidence: number;
  private readonly tileAbove: number;
  private readonly tileSize: number;
  private blaze: Promise<BlazeFaceScorer> | undefined;

  private constructor(
    private readonly fa: FaceApi,
    opts: FaceApiOptions,
  ) {
    this.minConfidence = opts.minConfidence ?? 0.5;
    this.tileAbove = opts.tileAbove ?? 2048;
    this.tileSize = opts.tileSize ?? 1024;
    this.mode = opts.detector ?? "fast";
    this.defaultDetector = this.mode === "fast" ? TINY_DETECTOR : SSD_DETECTOR;
    this.tinyInputSize = opts.tinyInputSize ?? 416;
    this.tinyMinConfidence = opts.tinyMinConfidence ?? 0.5;
    this.fastMinFace = opts.fastMinFace ?? 80;
    if (!FACE_DETECTOR_MODES.includes(this.mode))
      throw new FarmError("VALIDATION_ERROR", `detector must be one of ${FACE_DETECTOR_MODES.join(", ")}`, {
        field: "detector",
        constraint: FACE_DETECTOR_MODES.join(" | "),
      });
    if (!Number.isInteger(this.tinyInputSize) || this.tinyInputSize % 32 !== 0 || this.tinyInputSize < 128 || this.tinyInputSize > 1024) {
      throw new FarmError("VALIDATION_ERROR", "tiny_input_size must be a multiple of 32 in 128-1024", {
        field: "tiny_input_size",
        constraint: "multiple of 32, 128-1024",
      });
    }
  }

  /** Loads (once per process) and wraps face-api. Throws MODEL_ERROR naming the files. */
  static async create(opts: FaceApiOptions = {}): Promise<FaceApiBackend> {
    return new FaceApiBackend(await loadFaceApi(), opts);
  }

  private toTensor(data: Uint8Array, width: number, height: number): TfTensor {
    return this.fa.tf.tensor3d(Int32Array.from(data), [height, width, 3], "int32");
  }

  /**
   * A region of the image as a tensor, optionally shrunk with sharp first. SSD resizes every
   * input to 512x512 itself; shrinking natively before building the tensor skips moving
   * millions of pixels through wasm (the largest cost on 1+ Mpx photos).
   */
  private async regionTensor(image: RgbImage, r: Box, maxSide?: number): Promise<{ t: TfTensor; scale: number }> {
    const left = Math.max(0, Math.floor(r[0]));
    const top = Math.max(0, Math.floor(r[1]));
    const width = Math.max(1, Math.min(image.width, Math.ceil(r[2])) - left);
    const height = Math.max(1, Math.min(image.height, Math.ceil(r[3])) - top);
    let pipeline = sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } });
    if (left !== 0 || top !== 0 || width !== image.width || height !== image.height) pipeline = pipeline.extract({ left, top, width, height });
    let scale = 1;
    if (maxSide && Math.max(width, height) > maxSide) {
      scale = maxSide / Math.max(width, height);
      pipeline = pipeline.resize(Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale)), { fit: "fill", kernel: "linear" });
    }
    const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
    return { t: this.toTensor(data, info.width, info.height), scale: info.width / width };
  }

  async detect(image: RgbImage, signal?: AbortSignal, opts: DetectOptions = {}): Promise<DetectedFace[]> {
    return (await this.detectReport(image, signal, opts)).faces;
  }

  /** Like detect(), and says which detector net produced the boxes. */
  async detectReport(image: RgbImage, signal?: AbortSignal, opts: DetectOptions = {}): Promise<DetectReport> {
    const mode = opts.detector ?? this.mode;
    const tiled = opts.tiles !== false && Math.max(image.width, image.height) > this.tileAbove;
    let found = mode === "fast" && !tiled ? await this.tinyBoxes(image, signal) : null;
    let detector = TINY_DETECTOR;
    if (!found) {
      found = await this.ssdBoxes(image, tiled, signal);
      detector = SSD_DETECTOR;
    }
    return { faces: await this.finish(image, found.boxes, found.scores, signal, opts), detector };
  }

  private checkAbort(signal?: AbortSignal): void {
    if (signal?.aborted) throw new FarmError("JOB_CANCELLED", "face detection cancelled");
  }

  /**
   * TinyFaceDetector on the whole image, or null when its answer should not be trusted: no
   * face (a miss costs more than a second pass) or a face small in Tiny's input, where Tiny
   * starts missing faces that SSD still finds.
   */
  private async tinyBoxes(image: RgbImage, signal?: AbortSignal): Promise<{ boxes: Box[]; scores: number[] } | null> {
    this.checkAbort(signal);
    const { fa } = this;
    const size = this.tinyInputSize;
    const { t, scale } = await this.regionTensor(image, [0, 0, image.width, image.height], size);
    const boxes: Box[] = [];
    const scores: number[] = [];
    try {
      const options = new fa.TinyFaceDetectorOptions({ inputSize: size, scoreThreshold: this.tinyMinConfidence });
      // Tiny letterboxes its input to size x size (upscaling small images): judge faces there.
      const toInput = size / Math.max(t.shape[0] ?? 1, t.shape[1] ?? 1);
      for (const d of await fa.nets.tinyFaceDetector.locateFaces(t, options)) {
        const b = d.box;
        const [x1, y1, x2, y2] = tinyToSsdBox(b.x, b.y, b.width, b.height);
        if ((x2 - x1) * toInput < this.fastMinFace) return null;
        boxes.push(clampBox([x1 / scale, y1 / scale, x2 / scale, y2 / scale], image.width, image.height));
        scores.push(d.score);
      }
    } finally {
      t.dispose();
    }
    return boxes.length > 0 ? { boxes, scores } : null;
  }

  /**
   * How confidently TinyFaceDetector sees an upright face: its best score, 0 when none.
   * SSD finds faces turned a quarter or half turn too (and the landmark net then returns an
   * upright-looking but wrong shape, so the embedding is wrong); Tiny does not, which makes
   * its score the test of which way up a photo is (rotation search, jobs.ts).
   */
  async uprightScore(image: RgbImage, signal?: AbortSignal): Promise<number> {
    this.checkAbort(signal);
    const { fa } = this;
    const size = this.tinyInputSize;
    const { t } = await this.regionTensor(image, [0, 0, image.width, image.height], size);
    try {
      const found = await fa.nets.tinyFaceDetector.locateFaces(t, new fa.TinyFaceDetectorOptions({ inputSize: size, scoreThreshold: 0.1 }));
      return found.reduce((m, d) => Math.max(m, d.score), 0);
    } finally {
      t.dispose();
    }
  }

  /** BlazeFace's score per crop (the half-turn check); the model loads on first use (~0.5 MB). */
  async cropFaceScores(crops: RgbImage[], signal?: AbortSignal): Promise<number[]> {
    this.checkAbort(signal);
    this.blaze ??= BlazeFaceScorer.load().catch((err: unknown) => {
      this.blaze = undefined;
      throw err;
    });
    return (await this.blaze).scores(crops);
  }

  /** SSD on the whole image (shrunk to 512), plus overlapping tiles on big images. */
  private async ssdBoxes(image: RgbImage, tiled: boolean, signal?: AbortSignal): Promise<{ boxes: Box[]; scores: number[] }> {
    const { fa } = this;
    const options = new fa.SsdMobilenetv1Options({ minConfidence: this.minConfidence, maxResults: 200 });
    const boxes: Box[] = [];
    const scores: number[] = [];
    const scan = async (r: Box) => {
      this.checkAbort(signal);
      const { t, scale } = await this.regionTensor(image, r, SSD_INPUT);
      try {
        for (const d of await fa.nets.ssdMobilenetv1.locateFaces(t, options)) {
          const b = d.box;
          boxes.push(
            clampBox([r[0] + b.x / scale, r[1] + b.y / scale, r[0] + (b.x + b.width) / scale, r[1] + (b.y + b.height) / scale], image.width, image.height),
          );
          scores.push(d.score);
        }
      } finally {
        t.dispose();
      }
    };
    await scan([0, 0, image.width, image.height]);
    if (tiled) for (const tile of tileGrid(image.width, image.height, this.tileSize)) await scan(tile);
    return { boxes, scores };
  }

  /** NMS, tiny-box filter, then the landmark net per face (unless disabled). */
  private async finish(image: RgbImage, boxes: Box[], scores: number[], signal: AbortSignal | undefined, opts: DetectOptions): Promise<DetectedFace[]> {
    const keep = nms(boxes, scores, 0.4, 0.8).filter((i) => {
      const b = boxes[i]!;
      return b[2] - b[0] >= 4 && b[3] - b[1] >= 4;
    });
    const faces: DetectedFace[] = [];
    for (const i of keep) {
      const bbox = boxes[i]!;
      const face: DetectedFace = {
        bbox,
        confidence: scores[i]!,
        landmarks: { left_eye: [0, 0], right_eye: [0, 0], nose: [0, 0], mouth_left: [0, 0], mouth_right: [0, 0] },
      };
      if (opts.landmarks ?? true) {
        this.checkAbort(signal);
        const lm = await this.landmarksFor(image, bbox);
        face.landmarks = fiveFrom68(lm.positions);
        face.internal = { landmarks68: lm } satisfies Internal;
      }
      faces.push(face);
    }
    return faces;
  }

  private async landmarksFor(image: RgbImage, b: Box): Promise<FaLandmarks68> {
    const left = Math.max(0, Math.floor(b[0]));
    const top = Math.max(0, Math.floor(b[1]));
    const { t } = await this.regionTensor(image, [left, top, b[2], b[3]]);
    try {
      const lm = await this.fa.nets.faceLandmark68Net.detectLandmarks(t);
      const one = Array.isArray(lm) ? lm[0] : lm;
      if (!one) throw new FarmError("INTERNAL_ERROR", "landmark net returned nothing");
      return one.shiftBy(left, top);
    } finally {
      t.dispose();
    }
  }

  /** face-api landmarks from plain points (absolute pixels); align() clamps to the image size. */
  private rebuildLandmarks(positions: { x: number; y: number }[], image: RgbImage): FaLandmarks68 {
    const { fa } = this;
    return new fa.FaceLandmarks68(
      positions.map((p) => new fa.Point(p.x / image.width, p.y / image.height)),
      { width: image.width, height: image.height },
    );
  }

  async embed(image: RgbImage, face: DetectedFace): Promise<Float32Array> {
    const internal = face.internal as Internal | undefined;
    const lm =
      internal?.landmarks68 ??
      (internal?.positions?.length === 68 ? this.rebuildLandmarks(internal.positions, image) : await this.landmarksFor(image, face.bbox));
    // face-api's own alignment: a square around the dlib reference points.
    const a = lm.align(null, { useDlibAlignment: true });
    const { t } = await this.regionTensor(image, [a.x, a.y, a.x + a.width, a.y + a.height]);
    try {
      const d = await this.fa.nets.faceRecognitionNet.computeFaceDescriptor(t);
      const v = Array.isArray(d) ? d[0] : d;
      if (!v) throw new FarmError("INTERNAL_ERROR", "descriptor net returned nothing");
      return l2normalize(Float32Array.from(v));
    } finally {
      t.dispose();
    }
  }
}
