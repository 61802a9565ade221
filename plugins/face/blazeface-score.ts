/**
 * BlazeFace's face score on small square crops: the half-turn check of face-api's rotation
 * search (jobs.ts). TinyFaceDetector, which the search trusts to tell an upright face, also
 * fires on upside-down faces (dev photographs turned 180 degrees: score >= 0.5 on 70 of 268),
 * and face-api's landmark net draws an upright-looking face on them, so neither can tell a
 * photo stored upside down. BlazeFace can: its score on a crop around the face, upright
 * against the same crop turned 180 degrees, was higher the right way up on 260 of 262 dev
 * photographs (plugins/face/CALIBRATION.md, "Half-turn check").
 *
 * The model is the one @vladmandic/human ships (`models/blazeface.json`, MediaPipe's
 * short-range detector, 256x256 input, MIT; ~0.5 MB), run directly through tfjs-converter on
 * the thread's tfjs instance: only its 896 anchors' face logits are read (the best one is the
 * score human reports as `boxScore`), so no box decoding or NMS is needed, and several crops
 * go through in one batch.
 */
import path from "node:path";
import { createRequire } from "node:module";
import { FarmError } from "../../core/errors.ts";
import { humanPackageDir, readGraphArtifacts } from "./human/loader.ts";
import type { RgbImage } from "./types.ts";

const require = createRequire(import.meta.url);

/** Side of the model's input; crops are made this size so the model sees them unscaled. */
export const BLAZEFACE_INPUT = 256;

interface Tensor {
  readonly shape: number[];
  dispose(): void;
  data(): Promise<Float32Array | Int32Array | Uint8Array>;
}
interface TfCore {
  tensor4d(values: Float32Array, shape: [number, number, number, number], dtype: "float32"): Tensor;
  tidy<T>(fn: () => T): T;
  slice(x: Tensor, begin: number[], size: number[]): Tensor;
  max(x: Tensor): Tensor;
  maximum(a: Tensor, b: Tensor): Tensor;
  sigmoid(x: Tensor): Tensor;
}
interface GraphModel {
  execute(input: Tensor): Tensor | Tensor[];
}

export class BlazeFaceScorer {
  private constructor(
    private readonly tf: TfCore,
    private readonly model: GraphModel,
  ) {}

  /** Loads the model onto the thread's tfjs (which face-api or human has already started on wasm). */
  static async load(): Promise<BlazeFaceScorer> {
    const file = path.join(humanPackageDir(), "models", "blazeface.json");
    try {
      const tf = require("@tensorflow/tfjs-core") as TfCore;
      const { loadGraphModel } = require("@tensorflow/tfjs-converter") as {
        loadGraphModel(handler: { load(): Promise<Record<string, unknown>> }): Promise<GraphModel>;
      };
      return new BlazeFaceScorer(tf, await loadGraphModel({ load: async () => readGraphArtifacts(file) }));
    } catch (err) {
      throw new FarmError("MODEL_ERROR", `blazeface failed to load from ${file}: ${(err as Error).message}`);
    }
  }

  /** The best face score (0-1) of each crop; every crop is BLAZEFACE_INPUT pixels square. */
  async scores(crops: readonly RgbImage[]): Promise<number[]> {
    const out: number[] = [];
    // One crop per run: the converted graph fixes its batch at 1.
    for (const c of crops) out.push(await this.score(c));
    return out;
  }

  private async score(crop: RgbImage): Promise<number> {
    const side = BLAZEFACE_INPUT;
    if (crop.width !== side || crop.height !== side)
      throw new FarmError("INTERNAL_ERROR", `blazeface crop must be ${side}x${side}, got ${crop.width}x${crop.height}`);
    // The model's input range, as human feeds it: x / 127.5 - 1.
    const input = new Float32Array(crop.data.length);
    for (let j = 0; j < input.length; j++) input[j] = crop.data[j]! / 127.5 - 1;
    const { tf, model } = this;
    const x = tf.tensor4d(input, [1, side, side, 3], "float32");
    let best: Tensor | undefined;
    try {
      best = tf.tidy(() => {
        const out = model.execute(x);
        // Two heads (16x16 and 8x8 anchors): [1, 512, 1] and [1, 384, 1] face logits beside
        // [1, n, 16] boxes and keypoints; the best anchor of either is the crop's score.
        const logits = (Array.isArray(out) ? out : [out]).filter((t) => t.shape[t.shape.length - 1] === 1);
        if (logits.length === 0) throw new FarmError("MODEL_ERROR", "blazeface returned no face logits");
        return tf.sigmoid(logits.map((t) => tf.max(t)).reduce((a, b) => tf.maximum(a, b)));
      });
      return (await best.data())[0]!;
    } finally {
      x.dispose();
      best?.dispose();
    }
  }
}
