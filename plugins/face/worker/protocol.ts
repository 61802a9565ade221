/** Messages between FaceApiWorkerBackend (agent thread) and face-worker.ts (worker thread). */
import type { SerializedError } from "../../../core/errors.ts";
import type { DetectOptions, FaceApiOptions } from "../faceapi-backend.ts";
import type { DetectedFace, RgbImage } from "../types.ts";

/** Backends a face worker can host (each worker thread has its own tfjs instance). */
export type WorkerBackendKind = "face-api" | "human-faceres";

export type WorkerRequest =
  | { id: number; op: "init"; backend: WorkerBackendKind; options: FaceApiOptions }
  | { id: number; op: "detect"; image: RgbImage; options: DetectOptions }
  | { id: number; op: "embed"; image: RgbImage; face: DetectedFace }
  | { id: number; op: "upright"; image: RgbImage }
  | { id: number; op: "cropscores"; crops: RgbImage[] };

export type WorkerReply =
  | { id: number; ok: true; detect?: { faces: DetectedFace[]; detector: string }; embedding?: Float32Array; score?: number; scores?: number[] }
  | { id: number; ok: false; error: SerializedError };
