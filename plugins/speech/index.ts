/**
 * Speech plugin: audio.transcribe (POST /api/v1/audio/transcribe) with Whisper on
 * onnxruntime through @huggingface/transformers, and audio.vad (POST /api/v1/audio/vad) with
 * Silero VAD. Model files and shapes: manifest.ts and README.md "Speech models".
 *
 * Config (plugins.speech): max_seconds (3600), overlap_s (2, fixed windows), vad_min_silence_ms
 * (300, transcription windows), onnx_threads, vad_threads (1).
 */
import { FarmError } from "../../core/errors.ts";
import { definePlugin, type ModelSpec, type PluginInitContext, type Task, type TaskContext } from "../../core/plugin-contract.ts";
import { DEFAULT_WHISPER, manifest, VAD_MODEL } from "./manifest.ts";
import { parseVadParams } from "./params.ts";
import { loadAudio, runTranscribe, speechSettings } from "./transcribe.ts";
import { SileroVad, VAD_SR } from "./vad.ts";
import { loadWhisper, type WhisperHandle } from "./whisper-model.ts";

const isHandle = (h: unknown, id: string): h is WhisperHandle =>
  typeof h === "object" &&
  h !== null &&
  (h as WhisperHandle).id === id &&
  typeof (h as WhisperHandle).generate === "function" &&
  !(h as WhisperHandle).disposed;

// One Silero session per process, shared by all jobs: 2 MB on CPU, not worth the model
// manager's bookkeeping, and onnxruntime sessions run concurrent calls safely.
let vadSession: Promise<SileroVad> | null = null;
function sharedVad(config: Record<string, unknown>): Promise<SileroVad> {
  const threads = typeof config.vad_threads === "number" && config.vad_threads > 0 ? config.vad_threads : 1;
  vadSession ??= SileroVad.load({ threads }).catch((err: unknown) => {
    vadSession = null;
    throw err;
  });
  return vadSession;
}

export async function runVad(task: Task, ctx: TaskContext): Promise<Record<string, unknown>> {
  const p = parseVadParams(task.params);
  const settings = speechSettings(ctx.config);
  ctx.progress(1, "Decoding audio");
  const samples = await loadAudio(ctx, p.audioPath, settings.maxSeconds);
  ctx.progress(30, "Finding speech (Silero VAD)");
  const vad = await sharedVad(ctx.config);
  const regions = await vad.detect(samples, p.options, ctx.signal);
  ctx.progress(100, `${regions.length} speech region(s)`);
  return { regions, duration: Math.round((samples.length / VAD_SR) * 1000) / 1000 };
}

export default definePlugin({
  manifest,
  async load(model: ModelSpec, ctx: PluginInitContext) {
    // The VAD "model" is the process-wide session that transcription windows use too.
    if (model.id === VAD_MODEL) return sharedVad(ctx.config);
    const threads = typeof ctx.config.onnx_threads === "number" && ctx.config.onnx_threads > 0 ? ctx.config.onnx_threads : undefined;
    return loadWhisper(model.id, { modelsDir: ctx.modelsDir, gpuIndex: ctx.gpu_index ?? null, logger: ctx.logger, ...(threads ? { threads } : {}) });
  },
  async unload(model: ModelSpec, handle: unknown) {
    if (model.id === VAD_MODEL) return; // shared with transcription jobs: kept for the process' life
    if (typeof handle === "object" && handle !== null && typeof (handle as WhisperHandle).dispose === "function") await (handle as WhisperHandle).dispose();
  },
  async run(task: Task, ctx: TaskContext) {
    if (task.type === "audio.vad") return runVad(task, ctx);
    if (task.type !== "audio.transcribe")
      throw new FarmError("VALIDATION_ERROR", `speech plugin cannot run job type '${task.type}'`, {
        field: "type",
        constraint: "audio.transcribe | audio.vad",
      });
    const id = task.model ?? DEFAULT_WHISPER;
    if (!isHandle(ctx.model, id)) throw new FarmError("MODEL_ERROR", `Whisper model '${id}' is not loaded on this node`, { model: id });
    return runTranscribe(task, ctx, ctx.model, () => sharedVad(ctx.config));
  },
});
