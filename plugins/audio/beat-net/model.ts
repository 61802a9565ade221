/**
 * The beat network (issue 12): a small temporal convolutional network that reads the
 * analyser's band energies (input.ts) and gives a beat and a downbeat activation per frame.
 * Operator-supplied: no weights ship with the farm. scripts/audio-eval/beat-net/ trains one
 * from the evaluation sets and exports `beat-tcn.onnx`; placed at
 * <modelsDir>/beat-net/beat-tcn.onnx it is used by every analysis on that node, and the
 * DSP tracker (analyze.ts) runs alone where it is absent.
 *
 * Contract of the file (export.py): input "x" float32 (1, 72, frames), output "act" float32
 * (1, 2, frames) in 0..1 (after a sigmoid): row 0 the beat, row 1 the downbeat. Names are
 * read from the session, so any graph with one input and one output of those shapes runs.
 */
import fs from "node:fs";
import ort from "onnxruntime-node";
import { FarmError } from "../../../core/errors.ts";
import type { FrameFeatures } from "../dsp/features.ts";
import { beatNetInput, INPUT_CHANNELS } from "./input.ts";

/** Where the plugin looks for the model, relative to the node's models folder. */
export const BEAT_NET_FILE = "beat-net/beat-tcn.onnx";
/** Its id in the plugin's manifest (what `farmctl models` lists per node). */
export const BEAT_NET_MODEL = "beat-tcn";

export interface BeatActivation {
  /** Per frame of the features (features.ts frame rate), 0..1. */
  beat: Float32Array;
  downbeat: Float32Array;
}

export class BeatNet {
  private constructor(
    readonly file: string,
    private readonly session: ort.InferenceSession,
  ) {}

  /** A missing, unreadable or malformed file -> MODEL_ERROR naming the file. */
  static async load(file: string, threads?: number): Promise<BeatNet> {
    if (!fs.existsSync(file)) throw new FarmError("MODEL_ERROR", `beat network missing: expected ${file}`, { files: [file] });
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(file, {
        graphOptimizationLevel: "all",
        executionProviders: ["cpu"],
        ...(threads ? { intraOpNumThreads: threads } : {}),
        // Idle pool threads must not spin: the analysis (and ffmpeg) use those cores next.
        extra: { session: { intra_op: { allow_spinning: "0" }, inter_op: { allow_spinning: "0" } } },
      });
    } catch (err) {
      throw new FarmError("MODEL_ERROR", `beat network ${file} could not be loaded: ${(err as Error).message}`, { files: [file] });
    }
    if (session.inputNames.length !== 1 || session.outputNames.length < 1) {
      await session.release();
      throw new FarmError(
        "MODEL_ERROR",
        `beat network ${file} must have one input and one output (has ${session.inputNames.length} and ${session.outputNames.length})`,
        {
          files: [file],
        },
      );
    }
    return new BeatNet(file, session);
  }

  /** The activations for one song's features; a run that gives the wrong shape or non-finite values is a MODEL_ERROR. */
  async activations(f: Pick<FrameFeatures, "bands" | "nBands" | "nFrames">): Promise<BeatActivation> {
    const T = f.nFrames;
    if (2 * f.nBands !== INPUT_CHANNELS) throw new FarmError("INTERNAL_ERROR", `beat network reads ${INPUT_CHANNELS / 2} bands, features have ${f.nBands}`);
    const x = new ort.Tensor("float32", beatNetInput(f), [1, INPUT_CHANNELS, T]);
    let out: ort.Tensor | undefined;
    try {
      out = (await this.session.run({ [this.session.inputNames[0] as string]: x }))[this.session.outputNames[0] as string];
    } catch (err) {
      throw new FarmError("MODEL_ERROR", `beat network ${this.file} failed to run: ${(err as Error).message}`, { files: [this.file] });
    }
    const data = out?.data;
    if (!(data instanceof Float32Array) || data.length !== 2 * T)
      throw new FarmError("MODEL_ERROR", `beat network ${this.file} returned ${out ? `shape [${out.dims.join(", ")}]` : "nothing"}, expected [1, 2, ${T}]`, {
        files: [this.file],
      });
    for (let i = 0; i < data.length; i++)
      if (!Number.isFinite(data[i] as number))
        throw new FarmError("MODEL_ERROR", `beat network ${this.file} returned a non-finite activation`, { files: [this.file] });
    // Views, not copies: the output tensor's array belongs to this call alone.
    return { beat: data.subarray(0, T), downbeat: data.subarray(T, 2 * T) };
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/** One loaded network per file, reloaded when the operator replaces the file (size or mtime changes). */
const loaded = new Map<string, { stamp: string; net: Promise<BeatNet> }>();

export function beatNetFor(file: string, threads?: number): Promise<BeatNet> {
  let stamp = "missing";
  try {
    const st = fs.statSync(file);
    stamp = `${st.size}:${st.mtimeMs}`;
  } catch {
    // load() reports the missing file.
  }
  const hit = loaded.get(file);
  if (hit && hit.stamp === stamp) return hit.net;
  if (hit) void hit.net.then((n) => n.dispose()).catch(() => {});
  const net = BeatNet.load(file, threads);
  loaded.set(file, { stamp, net });
  // A failed load is not cached: the operator may fix the file.
  net.catch(() => {
    if (loaded.get(file)?.net === net) loaded.delete(file);
  });
  return net;
}
