/**
 * music.generate, defined once (core/job-types/define.ts): params schema, models and the
 * default model. The manifest, the API route (api/routes/music.ts) and the plugin's param
 * parsing (params.ts) read it. No runtime code: the models come from the farm's model
 * catalog (models/musicgen.yaml, read by models/catalog.ts: YAML, no onnx).
 */
import { Type } from "typebox";
import { defineJobType } from "../../core/job-types/define.ts";
import { catalogModels } from "../../models/catalog.ts";

/** Where a model's export lives, relative to paths.models (the catalog's files sit under it). */
export const modelFolder = (id: string) => `musicgen/${id}`;

export interface MusicgenModelInfo {
  id: string;
  /** Where the weights are published (the catalog's `source`). */
  source: string;
  vram_mb: number;
  /** Files relative to paths.models, all under modelFolder(id). */
  files: string[];
  license: string;
  vram_source: string;
  description: string;
}

/**
 * The models, from models/musicgen.yaml (the farm's model catalog: files, VRAM need with
 * its published source, licence). The catalog is the one place these numbers live.
 */
export const MUSICGEN_MODELS: readonly MusicgenModelInfo[] = catalogModels({ runtime: "onnx" })
  .filter((m) => m.job_types.includes("music.generate"))
  .map((m) => ({
    id: m.id,
    source: m.source,
    vram_mb: m.vram_mb,
    files: m.files.map((f) => f.file),
    license: m.license,
    vram_source: m.vram_source,
    description: m.description ?? m.id,
  }));

export const DEFAULT_MUSIC_MODEL = "musicgen-medium";
export const MUSIC_MODEL_IDS = MUSICGEN_MODELS.map((m) => m.id);

export const LICENSE_NOTE = "MusicGen weights are CC-BY-NC 4.0 (non-commercial); operators supply them";

export const modelFiles = (m: MusicgenModelInfo): string[] => [...m.files];

export const MAX_DURATION_S = 300;
export const MAX_SEED = 2 ** 32 - 1;

/**
 * top_k and guidance_scale default to the model's generation config on the agent when a
 * job leaves them out; the route fills the published MusicGen values (250, 3.0).
 */
export const MusicParams = Type.Object({
  prompt: Type.String({ minLength: 1, maxLength: 2000 }),
  duration: Type.Optional(
    Type.Number({
      exclusiveMinimum: 0,
      maximum: MAX_DURATION_S,
      default: 30,
      description: "Seconds; beyond one ~30 s window the piece continues from the previous window's audio codes",
    }),
  ),
  temperature: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 5, default: 1.0 })),
  top_k: Type.Optional(Type.Integer({ minimum: 0, maximum: 2048, default: 250, description: "0 = off" })),
  top_p: Type.Optional(Type.Number({ minimum: 0, maximum: 1, default: 0, description: "0 = off" })),
  guidance_scale: Type.Optional(Type.Number({ minimum: 0, maximum: 20, default: 3.0, description: "Classifier-free guidance; <= 1 = off" })),
  seed: Type.Optional(
    Type.Unsafe<number | null>({
      type: ["integer", "null"],
      minimum: 0,
      maximum: MAX_SEED,
      description: "Same seed, same model and device -> the same audio; drawn (and reported) when absent",
    }),
  ),
});

export const MUSIC_GENERATE = defineJobType({
  type: "music.generate",
  description: "Music from a text prompt: 32 kHz mono, mp3 + wav under outputs/music/; longer than one 30 s window by continuation",
  models: [...MUSIC_MODEL_IDS],
  default_model: DEFAULT_MUSIC_MODEL,
  params: MusicParams,
});
