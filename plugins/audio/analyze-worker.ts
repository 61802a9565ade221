/**
 * Worker-thread side of analyzePcmOffThread: the DSP is synchronous (about 1 s for a
 * 3-minute song, ~10 s at the 30-minute limit), so on the agent's main thread it would
 * stall mesh heartbeats and the node would be taken for dead. The beat network, when the
 * node has one, runs here too (loaded once per worker, beat-net/model.ts).
 */
import { parentPort } from "node:worker_threads";
import { analyzeWithBeatNet } from "./beat-net/analyze.ts";
import type { AnalysisType } from "./types.ts";
import { toFarmError } from "../../core/errors.ts";

interface Request {
  id: number;
  samples: Float32Array;
  sr: number;
  analysisType?: AnalysisType;
  /** The beat network's file, when the node has one (index.ts decides). */
  beatModel?: string;
}

parentPort!.on("message", (req: Request) => {
  analyzeWithBeatNet(req.samples, req.sr, {
    analysisType: req.analysisType,
    beatModel: req.beatModel,
    onProgress: (pct, message) => parentPort!.postMessage({ id: req.id, progress: pct, message }),
  }).then(
    (result) => parentPort!.postMessage({ id: req.id, result }),
    (err: unknown) => parentPort!.postMessage({ id: req.id, error: toFarmError(err).toJSON() }),
  );
});
