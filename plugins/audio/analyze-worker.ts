/**
 * Worker-thread side of analyzePcmOffThread: the DSP is synchronous (about 1 s for a
 * 3-minute song, ~10 s at the 30-minute limit), so on the agent's main thread it would
 * stall mesh heartbeats and the node would be taken for dead.
 */
import { parentPort } from "node:worker_threads";
import { analyzePcm } from "./analyze.ts";
import type { AnalysisType } from "./types.ts";
import { toFarmError } from "../../core/errors.ts";

interface Request {
  id: number;
  samples: Float32Array;
  sr: number;
  analysisType?: AnalysisType;
}

parentPort!.on("message", (req: Request) => {
  try {
    const result = analyzePcm(req.samples, req.sr, {
      analysisType: req.analysisType,
      onProgress: (pct, message) => parentPort!.postMessage({ id: req.id, progress: pct, message }),
    });
    parentPort!.postMessage({ id: req.id, result });
  } catch (err) {
    parentPort!.postMessage({ id: req.id, error: toFarmError(err).toJSON() });
  }
});
