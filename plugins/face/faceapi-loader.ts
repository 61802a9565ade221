/**
 * Loads @vladmandic/face-api on the tfjs WASM backend, once per process.
 *
 * Why the shims: face-api's `dist/face-api.node-wasm.js` requires `@tensorflow/tfjs` (the
 * umbrella package), which is not installed; only `tfjs-core` + `tfjs-backend-wasm` are.
 * face-api needs nothing from the umbrella beyond core ops, so the require is redirected
 * to `@tensorflow/tfjs-core` for the duration of that one synchronous load. The CommonJS
 * core build does not install the chained tensor methods (`t.as3D()`, `t.sub()`, ...) that
 * face-api calls; they are added below, each delegating to the op of the same name.
 * Emscripten's glue adds process handlers that rethrow every unhandled rejection; they
 * are removed after the backend starts so one stray promise cannot kill the agent.
 */
import Module, { createRequire } from "node:module";
import path from "node:path";
import { FarmError } from "../../core/errors.ts";

const require = createRequire(import.meta.url);

/** The slice of tfjs-core this plugin uses. */
export interface TfTensor {
  shape: number[];
  size: number;
  dispose(): void;
}
export interface Tf {
  Tensor: { prototype: Record<string, unknown>; new (...a: never[]): TfTensor };
  tensor3d(values: Uint8Array | Int32Array | Float32Array, shape: [number, number, number], dtype?: string): TfTensor;
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  getBackend(): string;
  memory(): { numTensors: number };
  env(): { getAsync(flag: string): Promise<unknown> };
  [op: string]: unknown;
}

export interface FaPoint {
  x: number;
  y: number;
}
export interface FaBox {
  x: number;
  y: number;
  width: number;
  height: number;
}
export interface FaDetection {
  score: number;
  box: FaBox;
  imageWidth: number;
  imageHeight: number;
}
export interface FaLandmarks68 {
  positions: FaPoint[];
  shiftBy(x: number, y: number): FaLandmarks68;
  align(detection?: null, options?: { useDlibAlignment?: boolean }): FaBox;
}
export interface FaceApi {
  tf: Tf;
  version: string;
  nets: {
    ssdMobilenetv1: { loadFromDisk(dir: string): Promise<void>; locateFaces(input: TfTensor, options: unknown): Promise<FaDetection[]>; isLoaded: boolean };
    tinyFaceDetector: { loadFromDisk(dir: string): Promise<void>; locateFaces(input: TfTensor, options: unknown): Promise<FaDetection[]>; isLoaded: boolean };
    faceLandmark68Net: { loadFromDisk(dir: string): Promise<void>; detectLandmarks(input: TfTensor): Promise<FaLandmarks68 | FaLandmarks68[]> };
    faceRecognitionNet: { loadFromDisk(dir: string): Promise<void>; computeFaceDescriptor(input: TfTensor): Promise<Float32Array | Float32Array[]> };
  };
  SsdMobilenetv1Options: new (o: { minConfidence?: number; maxResults?: number }) => unknown;
  TinyFaceDetectorOptions: new (o: { inputSize?: number; scoreThreshold?: number }) => unknown;
  Rect: new (x: number, y: number, w: number, h: number) => FaBox;
  Point: new (x: number, y: number) => FaPoint;
  /** positions = relative positions x image size (+ shift). */
  FaceLandmarks68: new (relativePositions: FaPoint[], imageDims: { width: number; height: number }) => FaLandmarks68;
  FaceDetection: new (score: number, relativeBox: FaBox, imageDims: { width: number; height: number }) => FaDetection;
  extractFaceTensors(image: TfTensor, boxes: FaBox[] | FaDetection[]): Promise<TfTensor[]>;
}

/** Chained methods face-api calls that delegate 1:1 to `tf.<name>(this, ...args)`. */
const SIMPLE_CHAINED = [
  "abs",
  "add",
  "all",
  "argMax",
  "asin",
  "atan",
  "batchNorm",
  "cast",
  "clipByValue",
  "conv2d",
  "div",
  "equal",
  "exp",
  "expandDims",
  "floor",
  "gather",
  "greater",
  "isNaN",
  "less",
  "log",
  "logicalAnd",
  "matMul",
  "max",
  "maximum",
  "mean",
  "min",
  "minimum",
  "mul",
  "neg",
  "pad",
  "relu",
  "reshape",
  "resizeBilinear",
  "reverse",
  "round",
  "sigmoid",
  "slice",
  "softmax",
  "split",
  "sqrt",
  "square",
  "squeeze",
  "sub",
  "sum",
  "tile",
  "transpose",
  "unstack",
];

function installChainedOps(tf: Tf): void {
  const proto = tf.Tensor.prototype;
  const op = (name: string) => tf[name] as (...a: unknown[]) => TfTensor;
  for (const name of SIMPLE_CHAINED) {
    if (name in proto || typeof tf[name] !== "function") continue;
    proto[name] = function (this: TfTensor, ...args: unknown[]) {
      return op(name)(this, ...args);
    };
  }
  const reshape = (t: TfTensor, s: number[]) => op("reshape")(t, s);
  proto.as1D = function (this: TfTensor) {
    return reshape(this, [this.size]);
  };
  proto.as2D = function (this: TfTensor, r: number, c: number) {
    return reshape(this, [r, c]);
  };
  proto.as3D = function (this: TfTensor, r: number, c: number, d: number) {
    return reshape(this, [r, c, d]);
  };
  proto.as4D = function (this: TfTensor, r: number, c: number, d: number, e: number) {
    return reshape(this, [r, c, d, e]);
  };
  proto.toInt = function (this: TfTensor) {
    return op("cast")(this, "int32");
  };
  proto.toFloat = function (this: TfTensor) {
    return op("cast")(this, "float32");
  };
  const list = (self: TfTensor, x: TfTensor | TfTensor[]) => (Array.isArray(x) ? [self, ...x] : [self, x]);
  proto.concat = function (this: TfTensor, x: TfTensor | TfTensor[], axis?: number) {
    return op("concat")(list(this, x), axis);
  };
  proto.stack = function (this: TfTensor, x: TfTensor | TfTensor[], axis?: number) {
    return op("stack")(list(this, x), axis);
  };
}

export const FACE_API_MODEL_DIR = path.join(path.dirname(require.resolve("@vladmandic/face-api/package.json")), "model");
export const FACE_API_FILES = [
  "ssd_mobilenetv1_model-weights_manifest.json",
  "ssd_mobilenetv1_model.bin",
  "tiny_face_detector_model-weights_manifest.json",
  "tiny_face_detector_model.bin",
  "face_landmark_68_model-weights_manifest.json",
  "face_landmark_68_model.bin",
  "face_recognition_model-weights_manifest.json",
  "face_recognition_model.bin",
];

let loading: Promise<FaceApi> | undefined;

/**
 * Whether the wasm runtime uses SIMD (tfjs then loads tfjs-backend-wasm-simd.wasm, about 2-3x
 * faster on convolutions than the plain build) and threads (off in Node without a worker
 * setup: one core per backend, which is what the farm's CPU accounting assumes).
 */
export async function wasmFeatures(fa: FaceApi): Promise<{ simd: boolean; threads: boolean }> {
  const env = fa.tf.env();
  return { simd: (await env.getAsync("WASM_HAS_SIMD_SUPPORT")) === true, threads: (await env.getAsync("WASM_HAS_MULTITHREAD_SUPPORT")) === true };
}

/** The loaded face-api (wasm backend, four nets: two detectors, landmarks, descriptor), shared by the whole process. */
export function loadFaceApi(): Promise<FaceApi> {
  loading ??= doLoad().catch((err: unknown) => {
    loading = undefined;
    if (err instanceof FarmError) throw err;
    throw new FarmError("MODEL_ERROR", `face-api failed to load from ${FACE_API_MODEL_DIR} (${(err as Error).message}); expected ${FACE_API_FILES.join(", ")}`);
  });
  return loading;
}

async function doLoad(): Promise<FaceApi> {
  const M = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
  const original = M._resolveFilename;
  let faceapi: FaceApi;
  M._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]) {
    return original.call(this, request === "@tensorflow/tfjs" ? "@tensorflow/tfjs-core" : request, ...rest);
  };
  try {
    faceapi = require("@vladmandic/face-api/dist/face-api.node-wasm.js") as FaceApi;
  } finally {
    M._resolveFilename = original;
  }
  const tf = faceapi.tf;
  installChainedOps(tf);
  if (tf.getBackend() !== "wasm") {
    const before = { u: process.listeners("uncaughtException"), r: process.listeners("unhandledRejection") };
    const ok = await tf.setBackend("wasm");
    await tf.ready();
    for (const l of process.listeners("uncaughtException")) if (!before.u.includes(l)) process.removeListener("uncaughtException", l);
    for (const l of process.listeners("unhandledRejection")) if (!before.r.includes(l)) process.removeListener("unhandledRejection", l);
    if (!ok || tf.getBackend() !== "wasm") throw new Error("tfjs wasm backend did not start");
  }
  await faceapi.nets.ssdMobilenetv1.loadFromDisk(FACE_API_MODEL_DIR);
  await faceapi.nets.tinyFaceDetector.loadFromDisk(FACE_API_MODEL_DIR);
  await faceapi.nets.faceLandmark68Net.loadFromDisk(FACE_API_MODEL_DIR);
  await faceapi.nets.faceRecognitionNet.loadFromDisk(FACE_API_MODEL_DIR);
  return faceapi;
}
