/**
 * Worker-thread side of FaceApiWorkerBackend: one FaceApiBackend (tfjs-wasm, single-threaded)
 * per worker. Inference is synchronous wasm for hundreds of milliseconds per image (tiled
 * 4096 px photos: seconds); on the agent's main thread that stalled mesh heartbeats and the
 * node was taken for dead. Requests are answered one at a time, in order.
 */
import { parentPort } from "node:worker_threads";
import { toFarmError } from "../../../core/errors.ts";
import { FaceApiBackend, portableFace } from "../faceapi-backend.ts";
import { HumanBackend } from "../human/backend.ts";
import type { DetectedFace, FaceBackend } from "../types.ts";
import type { WorkerReply, WorkerRequest } from "./protocol.ts";

let backend: FaceBackend | undefined;
/** Faces as they can cross threads: face-api's landmark objects become plain points; human's internals are plain already. */
let portable: (f: DetectedFace) => DetectedFace = (f) => f;
let chain: Promise<void> = Promise.resolve();

async function handle(req: WorkerRequest): Promise<WorkerReply> {
  if (req.op === "init") {
    if (req.backend === "human-faceres") {
      backend = await HumanBackend.create();
    } else {
      backend = await FaceApiBackend.create(req.options);
      portable = portableFace;
    }
    return { id: req.id, ok: true };
  }
  if (!backend) throw new Error("face worker used before init");
  if (req.op === "detect") {
    const r = backend.detectReport
      ? await backend.detectReport(req.image, undefined, req.options)
      : { faces: await backend.detect(req.image, undefined, req.options), detector: backend.defaultDetector ?? backend.model };
    return { id: req.id, ok: true, detect: { faces: r.faces.map(portable), detector: r.detector } };
  }
  if (req.op === "cropscores") return { id: req.id, ok: true, scores: backend.cropFaceScores ? await backend.cropFaceScores(req.crops) : [] };
  if (req.op === "upright") return { id: req.id, ok: true, score: backend.uprightScore ? await backend.uprightScore(req.image) : 0 };
  return { id: req.id, ok: true, embedding: await backend.embed(req.image, req.face) };
}

parentPort!.on("message", (req: WorkerRequest) => {
  chain = chain.then(async () => {
    let reply: WorkerReply;
    try {
      reply = await handle(req);
    } catch (err) {
      reply = { id: req.id, ok: false, error: toFarmError(err).toJSON() };
    }
    parentPort!.postMessage(reply);
  });
});
