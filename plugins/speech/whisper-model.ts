/**
 * One loaded Whisper export: feature extractor, tokenizer and the two ONNX sessions
 * (encoder_model, decoder_model_merged) through @huggingface/transformers'
 * WhisperForConditionalGeneration, local files only. CUDA execution provider on the task's
 * GPU when it has one, CPU otherwise.
 *
 * A handle is a "model" in the farm's sense: the agent loads it on demand, counts its VRAM,
 * evicts it LRU and calls dispose() (sessions released) on unload.
 */
import { cudaProviderInstalled } from "../../core/onnx-cuda.ts";
import fs from "node:fs";
import path from "node:path";
import { AutoProcessor, AutoTokenizer, Tensor, WhisperForConditionalGeneration, env } from "@huggingface/transformers";
import { FarmError } from "../../core/errors.ts";
import { WHISPER_FILES, WHISPER_MODELS, whisperFolder } from "./manifest.ts";
import { WhisperLogMel } from "./log-mel.ts";
import type { TokenLayout, WhisperTokenizerLike } from "./tokens.ts";

export interface GenerateResult {
  /** Generated ids after the prompt (timestamp tokens included, end-of-text excluded). */
  tokens: number[];
  /** DTW start time of each token (seconds, window time), when word timestamps were asked. */
  times: number[] | null;
}

export interface WhisperHandle {
  id: string;
  dir: string;
  /** "cuda:<n>" or "cpu": where the sessions actually run. */
  device: string;
  layout: TokenLayout;
  tokenizer: WhisperTokenizerLike;
  /** Language codes the model knows (from generation_config lang_to_id), empty for English-only models. */
  languages: string[];
  /** Log-mel features of up to 30 s of 16 kHz mono (padded to 30 s as Whisper expects). */
  features(samples: Float32Array): Promise<Tensor>;
  /** The most likely language after <|startoftranscript|> (one encoder + one decoder step). */
  detectLanguage(features: Tensor): Promise<string>;
  generate(features: Tensor, opts: { language?: string; task: "transcribe" | "translate"; wordTimestamps: boolean }): Promise<GenerateResult>;
  dispose(): Promise<void>;
  disposed: boolean;
}

export interface LoadOptions {
  modelsDir: string;
  gpuIndex?: number | null;
  threads?: number;
  logger?: { warn(msg: string, meta?: Record<string, unknown>): void };
}

type Json = Record<string, unknown>;

interface Generated {
  sequences?: Tensor;
  token_timestamps?: Tensor;
}
interface WhisperModelLike {
  sessions: Record<string, { outputNames: readonly string[] }>;
  generate(args: Record<string, unknown>): Promise<Tensor | Generated>;
  (args: Record<string, unknown>): Promise<{ logits: Tensor }>;
  dispose(): Promise<unknown>;
}
interface ProcessorLike {
  feature_extractor: { config: { mel_filters: number[][]; n_fft: number; hop_length: number; n_samples: number; nb_max_frames: number } };
}

async function fromPretrained(dir: string, gpuIndex: number | null, threads?: number): Promise<WhisperModelLike> {
  const session_options: Json = { graphOptimizationLevel: "all", ...(threads ? { intraOpNumThreads: threads } : {}) };
  if (gpuIndex !== null) session_options.executionProviders = [{ name: "cuda", deviceId: gpuIndex }];
  const model = await WhisperForConditionalGeneration.from_pretrained(dir, {
    local_files_only: true,
    dtype: "fp32",
    device: gpuIndex !== null ? "cuda" : "cpu",
    session_options,
  });
  return model as unknown as WhisperModelLike;
}

const toNumbers = (t: Tensor): number[] => Array.from(t.data as ArrayLike<number | bigint>, Number);

export async function loadWhisper(id: string, opts: LoadOptions): Promise<WhisperHandle> {
  const info = WHISPER_MODELS.find((m) => m.id === id);
  if (!info)
    throw new FarmError("VALIDATION_ERROR", `unknown Whisper model '${id}'`, { field: "model", constraint: WHISPER_MODELS.map((m) => m.id).join(", ") });
  const rel = whisperFolder(id);
  const dir = path.join(opts.modelsDir, rel);
  const missing = WHISPER_FILES.filter((f) => !fs.existsSync(path.join(dir, f)));
  if (missing.length > 0) {
    throw new FarmError(
      "MODEL_ERROR",
      `Whisper '${id}' files missing under ${dir}: ${missing.join(", ")} (export: ${info.source}; operators supply the weights)`,
      {
        model: id,
        files: WHISPER_FILES.map((f) => `${rel}/${f}`),
        missing: missing.map((f) => `${rel}/${f}`),
      },
    );
  }
  // Local weights only, ever: a missing file must fail, not reach for the Hub.
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  let gpu = opts.gpuIndex ?? null;
  if (gpu !== null && !cudaProviderInstalled()) {
    opts.logger?.warn("Whisper: onnxruntime-node has no CUDA provider here (install it with ONNXRUNTIME_NODE_INSTALL=cuda12); running on CPU", {
      model: id,
      gpu_index: gpu,
    });
    gpu = null;
  }
  let device = gpu !== null ? `cuda:${gpu}` : "cpu";
  try {
    const gen = JSON.parse(fs.readFileSync(path.join(dir, "generation_config.json"), "utf8")) as Json;
    const [processor, tokenizer, model] = await Promise.all([
      AutoProcessor.from_pretrained(dir, { local_files_only: true }) as unknown as Promise<ProcessorLike>,
      AutoTokenizer.from_pretrained(dir, { local_files_only: true }) as unknown as Promise<WhisperTokenizerLike & { timestamp_begin: number }>,
      fromPretrained(dir, gpu, opts.threads).catch(async (err: Error) => {
        if (gpu === null) throw err;
        // The CPU-only onnxruntime build has no CUDA provider (GPU nodes install it with
        // ONNXRUNTIME_NODE_INSTALL=cuda12): run on CPU rather than not at all, and say so.
        opts.logger?.warn("Whisper: CUDA execution provider unavailable, running on CPU", { model: id, error: err.message });
        device = "cpu";
        return fromPretrained(dir, null, opts.threads);
      }),
    ]);
    // The export's own preprocessor settings and mel filter bank, computed by log-mel.ts (the
    // same numbers, several times faster than the extractor's own path).
    const fc = processor.feature_extractor.config;
    const mel = new WhisperLogMel({ nFft: fc.n_fft, hop: fc.hop_length, nSamples: fc.n_samples, nFrames: fc.nb_max_frames, filters: fc.mel_filters });
    const eot = Number(Array.isArray(gen.eos_token_id) ? gen.eos_token_id[0] : gen.eos_token_id);
    const sot = Number(gen.decoder_start_token_id);
    const langToId = (gen.lang_to_id ?? {}) as Record<string, number>;
    const languages = Object.keys(langToId).map((k) => k.replace(/^<\|(.*)\|>$/, "$1"));
    // Word timestamps need the decoder's cross-attentions (exports made with
    // output_attentions) and the alignment heads that say which of them follow the audio.
    const decoderOutputs = model.sessions.decoder_model_merged?.outputNames ?? [];
    const wordsMissing = [
      ...(Array.isArray(gen.alignment_heads) && gen.alignment_heads.length > 0 ? [] : ["alignment_heads in generation_config.json"]),
      ...(decoderOutputs.some((n) => n.startsWith("cross_attentions")) ? [] : ["cross_attentions.N outputs of onnx/decoder_model_merged.onnx"]),
    ];
    const layout: TokenLayout = { eot, timestampBegin: tokenizer.timestamp_begin, precision: 0.02 };
    if (!Number.isInteger(eot) || !Number.isInteger(sot) || !Number.isInteger(layout.timestampBegin)) {
      throw new Error("generation_config.json lacks eos_token_id / decoder_start_token_id, or tokenizer has no <|notimestamps|>");
    }
    const handle: WhisperHandle = {
      id,
      dir,
      device,
      layout,
      tokenizer,
      languages,
      disposed: false,
      async features(samples) {
        return new Tensor("float32", mel.compute(samples), [1, mel.melBins, fc.nb_max_frames]);
      },
      async detectLanguage(features) {
        if (languages.length === 0) return "en";
        const out = await model({ input_features: features, decoder_input_ids: new Tensor("int64", BigInt64Array.from([BigInt(sot)]), [1, 1]) });
        const logits = out.logits.data as Float32Array;
        const vocab = out.logits.dims.at(-1)!;
        const row = logits.subarray(logits.length - vocab);
        let best = languages[0]!;
        let bestLogit = -Infinity;
        for (const [tok, tid] of Object.entries(langToId)) {
          const v = row[tid] ?? -Infinity;
          if (v > bestLogit) [best, bestLogit] = [tok.replace(/^<\|(.*)\|>$/, "$1"), v];
        }
        return best;
      },
      async generate(features, g) {
        if (g.wordTimestamps && wordsMissing.length > 0) {
          throw new FarmError(
            "MODEL_ERROR",
            `Whisper '${id}' cannot give word timestamps: its export lacks ${wordsMissing.join(" and ")} (use an export made with output_attentions)`,
            { model: id, missing: wordsMissing },
          );
        }
        const out = await model.generate({
          inputs: features,
          return_timestamps: true,
          ...(g.wordTimestamps ? { return_token_timestamps: true } : {}),
          ...(languages.length > 0 ? { language: g.language ?? "en", task: g.task } : {}),
        });
        const seq = out instanceof Tensor ? out : out.sequences;
        if (!seq) throw new FarmError("MODEL_ERROR", `Whisper '${id}' returned no sequences`);
        const all = toNumbers(seq);
        // The prompt ends at the first token at or after <|startoftranscript|>'s specials:
        // everything before the first timestamp or text token is prompt.
        let p = 0;
        while (p < all.length && all[p]! > eot && all[p]! < layout.timestampBegin) p++;
        const times = !(out instanceof Tensor) && out.token_timestamps ? toNumbers(out.token_timestamps).slice(p) : null;
        const tokens = all.slice(p);
        while (tokens.length > 0 && tokens.at(-1) === eot) {
          tokens.pop();
          times?.pop();
        }
        return { tokens, times };
      },
      async dispose() {
        if (handle.disposed) return;
        handle.disposed = true;
        await model.dispose();
      },
    };
    return handle;
  } catch (err) {
    if (err instanceof FarmError) throw err;
    throw new FarmError("MODEL_ERROR", `Whisper '${id}' could not be loaded from ${dir}: ${(err as Error).message}`, {
      model: id,
      files: WHISPER_FILES.map((f) => `${rel}/${f}`),
    });
  }
}
