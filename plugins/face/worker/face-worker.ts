/**
 * Worker-thread side of FaceApiWorkerBackend: one FaceApiBackend (tfjs-wasm, single-threaded)
 * per worker. Inference is synchronous wasm for hundreds of milliseconds per image (tiled
 * 4096 px photos: seconds); on the agent's main thread that stalled mesh heartbeats and the
 * node was taken for dead. Requests are answered one at a time, in order.
 */
import { parentPort } from "node:worker_threads";
import { toFarmError } from "../../../core/errors.ts";
import { FaceApiBackend, portableFace } from "../faceapi-backend.ts";
import type { WorkerReply, WorkerRequest } from "./protocol.ts";

let backend: FaceApiBackend | undefined;
let chain: Promise<void> = Promise.resolve();

async function handle(req: WorkerRequest): Promise<WorkerReply> {
  if (req.op === "init") {
    backend = await FaceApiBackend.create(req.options);
    return { id: req.id, ok: true };
  }
  if (!backend) throw new Error("face worker used before init");
  if (req.op === "detect") {
    const r = await backend.detectReport(req.image, undefined, req.options);
    return { id: req.id, ok: true, detect: { faces: r.faces.map(portableFace), detector: r.detector } };
  }
  if (req.op === "upright") return { id: req.id, ok: true, score: await backend.uprightScore(req.image) };
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
