/**
 * Loading a MusicGen export: tokenizer and the three ONNX sessions (text_encoder,
 * decoder_model_merged, encodec_decode) through @huggingface/transformers'
 * MusicgenForConditionalGeneration, local files only. The generation loop runs the
 * sessions itself (generate.ts) instead of transformers.js' generate(): that one samples
 * from the library's single global Mersenne Twister (two jobs in one process would
 * interleave draws, so a seed could not reproduce), has no per-step cancel, and cannot
 * prompt the decoder with the previous window's audio codes for continuation.
 *
 * A handle is a "model" in the farm's sense: the agent loads it on demand, counts its VRAM,
 * evicts it LRU and calls dispose() (sessions released) on unload.
 */
import { cudaProviderInstalled } from "../../core/onnx-cuda.ts";
import fs from "node:fs";
import path from "node:path";
import type ort from "onnxruntime-node";
import { FarmError } from "../../core/errors.ts";
import { modelFolder, MUSICGEN_MODELS } from "./manifest.ts";

export type Session = ort.InferenceSession;

export interface MusicgenConfig {
  numCodebooks: number;
  /** Codebook size: logits per row. */
  vocabSize: number;
  /** Pad / start token id (= vocabSize in the published configs). */
  padTokenId: number;
  startTokenId: number;
  sampleRate: number;
  /** Audio frames (code steps) per second: sampleRate / product(upsampling_ratios). */
  frameRate: number;
  /** Longest decoder sequence the generation config allows (positions, incl. the delay). */
  maxLength: number;
  /** Defaults from generation_config.json. */
  guidanceScale: number;
  topK: number;
}

export interface TextEncoding {
  ids: BigInt64Array;
  mask: BigInt64Array;
}

export interface MusicgenHandle {
  id: string;
  dir: string;
  config: MusicgenConfig;
  /** "cuda:<n>" or "cpu": where the sessions actually run. */
  device: string;
  text: Session;
  decoder: Session;
  encodec: Session;
  tokenize(prompt: string): TextEncoding;
  dispose(): Promise<void>;
  disposed: boolean;
}

export interface LoadOptions {
  modelsDir: string;
  /** GPU to run on (CUDA execution provider); null/undefined = CPU. */
  gpuIndex?: number | null;
  threads?: number;
  logger?: { warn(msg: string, meta?: Record<string, unknown>): void };
}

const num = (v: unknown, fallback: number): number => (typeof v === "number" && Number.isFinite(v) ? v : fallback);
type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === "object" ? (v as Json) : {});

/** The numbers the loop needs, from config.json + generation_config.json; a broken file is MODEL_ERROR. */
export function readMusicgenConfig(dir: string): MusicgenConfig {
  let cfg: Json;
  let gen: Json;
  try {
    cfg = JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8")) as Json;
    gen = JSON.parse(fs.readFileSync(path.join(dir, "generation_config.json"), "utf8")) as Json;
  } catch (err) {
    throw new FarmError("MODEL_ERROR", `MusicGen config unreadable in ${dir}: ${(err as Error).message}`);
  }
  const dec = obj(cfg.decoder);
  const audio = obj(cfg.audio_encoder);
  if (cfg.model_type !== "musicgen") throw new FarmError("MODEL_ERROR", `${dir}/config.json is model_type '${String(cfg.model_type)}', expected 'musicgen'`);
  const vocabSize = num(dec.vocab_size, 2048);
  const padTokenId = num(dec.pad_token_id, num(gen.pad_token_id, vocabSize));
  const sampleRate = num(audio.sampling_rate, 32000);
  const ratios = Array.isArray(audio.upsampling_ratios) ? (audio.upsampling_ratios as unknown[]).map((r) => num(r, 1)) : [8, 5, 4, 4];
  const hop = ratios.reduce((a, b) => a * b, 1);
  return {
    numCodebooks: num(dec.num_codebooks, 4),
    vocabSize,
    padTokenId,
    startTokenId: num(gen.decoder_start_token_id, num(cfg.decoder_start_token_id, padTokenId)),
    sampleRate,
    frameRate: num(audio.frame_rate, sampleRate / hop),
    maxLength: num(gen.max_length, 1500),
    guidanceScale: num(gen.guidance_scale, 3),
    topK: num(gen.top_k, 250),
  };
}

interface LoadedModel {
  sessions: Record<string, Session>;
  dispose(): Promise<unknown>;
}
type TokenizerFn = (text: string) => { input_ids: { data: ArrayLike<bigint> }; attention_mask: { data: ArrayLike<bigint> } };

type Transformers = typeof import("@huggingface/transformers");

async function fromPretrained(tf: Transformers, dir: string, gpuIndex: number | null, threads?: number): Promise<LoadedModel> {
  const session_options: Record<string, unknown> = { graphOptimizationLevel: "all", ...(threads ? { intraOpNumThreads: threads } : {}) };
  if (gpuIndex !== null) session_options.executionProviders = [{ name: "cuda", deviceId: gpuIndex }];
  const model = await tf.MusicgenForConditionalGeneration.from_pretrained(dir, {
    local_files_only: true,
    dtype: "fp32",
    device: gpuIndex !== null ? "cuda" : "cpu",
    session_options,
  });
  return model as unknown as LoadedModel;
}

/** Load one model's export. Missing files or sessions that do not load -> MODEL_ERROR naming the files. */
export async function loadMusicgen(id: string, opts: LoadOptions): Promise<MusicgenHandle> {
  const info = MUSICGEN_MODELS.find((m) => m.id === id);
  if (!info)
    throw new FarmError("VALIDATION_ERROR", `unknown MusicGen model '${id}'`, { field: "model", constraint: MUSICGEN_MODELS.map((m) => m.id).join(", ") });
  const dir = path.join(opts.modelsDir, modelFolder(id));
  const expected = info.files;
  const missing = expected.filter((f) => !fs.existsSync(path.join(opts.modelsDir, f)));
  if (missing.length > 0) {
    throw new FarmError(
      "MODEL_ERROR",
      `MusicGen '${id}' files missing under ${opts.modelsDir}: ${missing.join(", ")} (weights: ${info.source}; ${info.license})`,
      {
        model: id,
        files: expected,
        missing,
      },
    );
  }
  const config = readMusicgenConfig(dir);
  // Imported here, not at module load: agents that never run MusicGen skip its import cost.
  const tf = await import("@huggingface/transformers");
  // Local weights only, ever: a missing file must fail, not reach for the Hub.
  tf.env.allowRemoteModels = false;
  tf.env.allowLocalModels = true;
  let model: LoadedModel;
  let gpu = opts.gpuIndex ?? null;
  if (gpu !== null && !cudaProviderInstalled()) {
    opts.logger?.warn("MusicGen: onnxruntime-node has no CUDA provider here (install it with ONNXRUNTIME_NODE_INSTALL=cuda12); running on CPU", {
      model: id,
      gpu_index: gpu,
    });
    gpu = null;
  }
  let device = gpu !== null ? `cuda:${gpu}` : "cpu";
  try {
    let tok: unknown;
    [tok, model] = await Promise.all([
      tf.AutoTokenizer.from_pretrained(dir, { local_files_only: true }),
      fromPretrained(tf, dir, gpu, opts.threads).catch(async (err: Error) => {
        if (gpu === null) throw err;
        // The provider library is there but CUDA itself failed (driver, libcudnn): run on
        // CPU rather than not at all, and say so in the log and in the job's `device`.
        opts.logger?.warn("MusicGen: CUDA execution provider failed, running on CPU", { model: id, error: err.message });
        device = "cpu";
        return fromPretrained(tf, dir, null, opts.threads);
      }),
    ]);
    const tokenizer = tok as TokenizerFn;
    const s = model.sessions;
    const text = s.model,
      decoder = s.decoder_model_merged,
      encodec = s.encodec_decode;
    if (!text || !decoder || !encodec) throw new Error(`sessions loaded: ${Object.keys(s).join(", ")}`);
    const handle: MusicgenHandle = {
      id,
      dir,
      config,
      device,
      text,
      decoder,
      encodec,
      disposed: false,
      tokenize(prompt) {
        const enc = tokenizer(prompt);
        return { ids: BigInt64Array.from(enc.input_ids.data), mask: BigInt64Array.from(enc.attention_mask.data) };
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
    throw new FarmError("MODEL_ERROR", `MusicGen '${id}' could not be loaded from ${dir}: ${(err as Error).message}`, { model: id, files: expected });
  }
}
