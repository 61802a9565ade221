/**
 * Face models off the agent's main thread: the same FaceBackend, served by a worker thread
 * that owns one backend (face-api's FaceApiBackend or human's HumanBackend, each worker with
 * its own tfjs instance). The event loop keeps answering heartbeats and other jobs
 * while a photo is scanned (the face note measured a 4000 px photo blocking it 0.84 s, and
 * an 8000x8000 PNG long enough for the node to be declared lost).
 *
 * Calls are queued in the worker (tfjs-wasm runs one inference at a time anyway). Images
 * are copied to the worker (~1 ms per megapixel), not transferred: callers keep theirs.
 * Cancel terminates the worker, since wasm cannot be interrupted; the next call starts a
 * new one and pays the model load again (~1 s).
 */
import { Worker } from "node:worker_threads";
import { FarmError, isErrorCode } from "../../../core/errors.ts";
import { SSD_DETECTOR, TINY_DETECTOR, type DetectOptions, type DetectReport, type FaceApiOptions } from "../faceapi-backend.ts";
import type { DetectedFace, FaceBackend, RgbImage } from "../types.ts";
import { BLAZEFACE_DETECTOR, HUMAN_FACE_MODEL } from "../human/backend.ts";
import type { WorkerBackendKind, WorkerReply, WorkerRequest } from "./protocol.ts";

type Payload = Extract<WorkerReply, { ok: true }>;
/** `w`: the worker running it; a terminated worker's exit must not fail its successor's calls. */
interface Pending {
  w: Worker;
  resolve: (r: Payload) => void;
  reject: (e: unknown) => void;
}
type Request = WorkerRequest extends infer R ? (R extends { id: number } ? Omit<R, "id"> : never) : never;

export class FaceWorkerBackend implements FaceBackend {
  readonly model: string;
  readonly embeddingDim: number;
  readonly defaultDetector: string;
  readonly uprightDetector: string | undefined;
  private worker: { w: Worker; ready: Promise<unknown> } | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  protected constructor(
    private readonly kind: WorkerBackendKind,
    private readonly options: FaceApiOptions,
  ) {
    if (kind === "human-faceres") {
      this.model = HUMAN_FACE_MODEL;
      this.embeddingDim = 1024;
      this.defaultDetector = BLAZEFACE_DETECTOR;
      this.uprightDetector = undefined;
    } else {
      this.model = "face-api";
      this.embeddingDim = 128;
      this.defaultDetector = (options.detector ?? "fast") === "fast" ? TINY_DETECTOR : SSD_DETECTOR;
      this.uprightDetector = TINY_DETECTOR;
    }
  }

  /** Starts a worker hosting `kind` and loads its nets; MODEL_ERROR / VALIDATION_ERROR as the in-process create(). */
  static async start(kind: WorkerBackendKind, options: FaceApiOptions = {}): Promise<FaceWorkerBackend> {
    const b = new FaceWorkerBackend(kind, options);
    await b.start().ready;
    return b;
  }

  private start(): { w: Worker; ready: Promise<unknown> } {
    if (this.worker) return this.worker;
    const w = new Worker(new URL("./boot.mjs", import.meta.url));
    w.on("message", (m: WorkerReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (![...this.pending.values()].some((q) => q.w === w)) w.unref();
      if (m.ok) p.resolve(m);
      else p.reject(new FarmError(isErrorCode(m.error.code) ? m.error.code : "INTERNAL_ERROR", m.error.message, m.error.details));
    });
    const fail = (err: FarmError) => {
      if (this.worker?.w === w) this.worker = null;
      for (const [id, p] of this.pending)
        if (p.w === w) {
          this.pending.delete(id);
          p.reject(err);
        }
    };
    w.on("error", (e) => fail(e instanceof FarmError ? e : new FarmError("INTERNAL_ERROR", `face worker failed: ${e.message}`)));
    w.on("exit", (code) => fail(new FarmError("INTERNAL_ERROR", `face worker exited (code ${code})`)));
    const entry = { w, ready: Promise.resolve() as Promise<unknown> };
    this.worker = entry;
    entry.ready = this.send(entry, { op: "init", backend: this.kind, options: this.options });
    // A failed init (missing weights) must not leave a half-started worker for the next call.
    entry.ready.catch(() => {
      if (this.worker === entry) {
        this.worker = null;
        void w.terminate();
      }
    });
    return entry;
  }

  private send(entry: { w: Worker }, req: Request, signal?: AbortSignal): Promise<Payload> {
    return new Promise<Payload>((resolve, reject) => {
      if (signal?.aborted) return reject(new FarmError("JOB_CANCELLED", "face detection cancelled"));
      const id = this.nextId++;
      const onAbort = () => {
        // wasm cannot be interrupted: stop the worker; queued calls fail, the next one restarts it.
        if (this.worker?.w === entry.w) this.worker = null;
        this.pending.delete(id);
        void entry.w.terminate();
        reject(new FarmError("JOB_CANCELLED", "face detection cancelled"));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.pending.set(id, {
        w: entry.w,
        resolve: (r) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(r);
        },
        reject: (e) => {
          signal?.removeEventListener("abort", onAbort);
          reject(e);
        },
      });
      // Referenced only while a call is in flight: an idle worker must not keep the process alive.
      entry.w.ref();
      entry.w.postMessage({ id, ...req } as WorkerRequest);
    });
  }

  private async call(req: Request, signal?: AbortSignal): Promise<Payload> {
    const entry = this.start();
    await entry.ready;
    return this.send(entry, req, signal);
  }

  async detectReport(image: RgbImage, signal?: AbortSignal, options: DetectOptions = {}): Promise<DetectReport> {
    const r = await this.call({ op: "detect", image, options }, signal);
    if (!r.detect) throw new FarmError("INTERNAL_ERROR", "face worker answered detect without faces");
    return r.detect;
  }

  async detect(image: RgbImage, signal?: AbortSignal, options: DetectOptions = {}): Promise<DetectedFace[]> {
    return (await this.detectReport(image, signal, options)).faces;
  }

  /** Tiny's upright-face score (face-api workers only: 0 elsewhere, and jobs do not ask without an uprightDetector). */
  async uprightScore(image: RgbImage, signal?: AbortSignal): Promise<number> {
    const r = await this.call({ op: "upright", image }, signal);
    return r.score ?? 0;
  }

  /** BlazeFace's score per crop (face-api workers; jobs ask only backends with an uprightDetector). */
  async cropFaceScores(crops: RgbImage[], signal?: AbortSignal): Promise<number[]> {
    const r = await this.call({ op: "cropscores", crops }, signal);
    if (r.scores?.length !== crops.length) throw new FarmError("INTERNAL_ERROR", "face worker answered cropscores without a score per crop");
    return r.scores;
  }

  async embed(image: RgbImage, face: DetectedFace): Promise<Float32Array> {
    const r = await this.call({ op: "embed", image, face });
    if (!r.embedding) throw new FarmError("INTERNAL_ERROR", "face worker answered embed without an embedding");
    return r.embedding;
  }

  async dispose(): Promise<void> {
    const entry = this.worker;
    this.worker = null;
    if (entry) await entry.w.terminate();
  }
}

/** face-api in a worker thread (the default face-api backend of the plugin). */
export class FaceApiWorkerBackend extends FaceWorkerBackend {
  static async create(options: FaceApiOptions = {}): Promise<FaceWorkerBackend> {
    return FaceWorkerBackend.start("face-api", options);
  }
}
