/**
 * Loads @vladmandic/human (MIT; models ship in the npm package) on tfjs-wasm, once per thread.
 *
 * Why the detours: human's package `exports` map does not expose `dist/human.node-wasm.js`
 * (the only Node build without tfjs-node), so it is required by file path; tfjs-core has no
 * file IO in Node without tfjs-node, so a `file://` load router reads the model JSON and
 * weight shards from disk. Emscripten's process handlers are removed as in the face-api
 * loader. Only the face pipeline is enabled: blazeface (detector, with in-plane rotation),
 * facemesh (468 points; alignment and the five landmarks) and faceres (1024-d descriptor).
 */
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { FarmError } from "../../../core/errors.ts";

const require = createRequire(import.meta.url);

export interface HumanPoint {
  0: number;
  1: number;
  2?: number;
}
export interface HumanFace {
  score: number;
  boxScore: number;
  box: [number, number, number, number];
  annotations: Record<string, HumanPoint[]>;
  embedding?: number[];
}
export interface HumanTensor {
  dispose(): void;
}
export interface HumanTf {
  tensor3d(values: Uint8Array | Int32Array, shape: [number, number, number], dtype?: string): HumanTensor;
  io: { registerLoadRouter(router: (url: string | string[]) => unknown): void };
  getBackend(): string;
}
export interface HumanInstance {
  load(): Promise<void>;
  detect(input: HumanTensor): Promise<{ face?: HumanFace[]; error?: string | null }>;
}

/** The package folder (its exports map hides package.json from require.resolve). */
export function humanPackageDir(): string {
  for (const base of require.resolve.paths("@vladmandic/human") ?? []) {
    const dir = path.join(base, "@vladmandic", "human");
    if (fs.existsSync(path.join(dir, "dist", "human.node-wasm.js"))) return dir;
  }
  throw new FarmError("MODEL_ERROR", "@vladmandic/human is not installed (npm install @vladmandic/human @tensorflow/tfjs-converter)");
}

export const HUMAN_MODEL_FILES = ["blazeface.json", "blazeface.bin", "facemesh.json", "facemesh.bin", "faceres.json", "faceres.bin"];

/** A tfjs graph model's JSON and weight shards read from disk, in the shape tfjs-converter's IO handlers return. */
export function readGraphArtifacts(file: string): Record<string, unknown> {
  const json = JSON.parse(fs.readFileSync(file, "utf8")) as {
    modelTopology: unknown;
    format?: string;
    generatedBy?: string;
    convertedBy?: string;
    signature?: unknown;
    userDefinedMetadata?: unknown;
    weightsManifest: { paths: string[]; weights: unknown[] }[];
  };
  const all = Buffer.concat(json.weightsManifest.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(path.dirname(file), p)))));
  return {
    modelTopology: json.modelTopology,
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy,
    weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
    weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
    signature: json.signature,
    userDefinedMetadata: json.userDefinedMetadata,
  };
}

function registerFileRouter(tf: HumanTf): void {
  tf.io.registerLoadRouter((url) => {
    const u = Array.isArray(url) ? url[0] : url;
    if (typeof u !== "string" || !u.startsWith("file://")) return null;
    const file = u.slice("file://".length);
    return { load: async () => readGraphArtifacts(file) };
  });
}

let loading: Promise<{ human: HumanInstance; tf: HumanTf }> | undefined;

export function loadHuman(): Promise<{ human: HumanInstance; tf: HumanTf }> {
  loading ??= doLoad().catch((err: unknown) => {
    loading = undefined;
    if (err instanceof FarmError) throw err;
    throw new FarmError(
      "MODEL_ERROR",
      `human (faceres) failed to load (${(err as Error).message}); expected ${HUMAN_MODEL_FILES.join(", ")} in @vladmandic/human/models`,
    );
  });
  return loading;
}

async function doLoad(): Promise<{ human: HumanInstance; tf: HumanTf }> {
  const dir = humanPackageDir();
  const tf = require("@tensorflow/tfjs-core") as HumanTf;
  require("@tensorflow/tfjs-backend-wasm");
  const H = require(path.join(dir, "dist", "human.node-wasm.js")) as { Human: new (config: Record<string, unknown>) => HumanInstance };
  registerFileRouter(tf);
  const wasmDir = path.join(path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist") + path.sep;
  const human = new H.Human({
    backend: "wasm",
    wasmPath: wasmDir,
    modelBasePath: `file://${path.join(dir, "models")}/`,
    debug: false,
    cacheSensitivity: 0,
    body: { enabled: false },
    hand: { enabled: false },
    object: { enabled: false },
    gesture: { enabled: false },
    segmentation: { enabled: false },
    face: {
      enabled: true,
      detector: { rotation: true, maxDetected: 50, minConfidence: 0.2, skipFrames: 0 },
      mesh: { enabled: true },
      iris: { enabled: false },
      emotion: { enabled: false },
      antispoof: { enabled: false },
      liveness: { enabled: false },
      description: { enabled: true, skipFrames: 0 },
    },
  });
  const before = { u: process.listeners("uncaughtException"), r: process.listeners("unhandledRejection") };
  await human.load();
  for (const l of process.listeners("uncaughtException")) if (!before.u.includes(l)) process.removeListener("uncaughtException", l);
  for (const l of process.listeners("unhandledRejection")) if (!before.r.includes(l)) process.removeListener("unhandledRejection", l);
  if (tf.getBackend() !== "wasm") throw new Error(`tfjs backend is ${tf.getBackend()}, expected wasm`);
  return { human, tf };
}
