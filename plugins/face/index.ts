/**
 * Face plugin: detection, embeddings and reference embeddings for character identity.
 *
 * Job types: face.detect, face.embed, face.embed_references (shapes in README.md).
 * Models: "face-api" (CPU default for detection, weights ship inside @vladmandic/face-api, 128-d),
 * "human-faceres" (@vladmandic/human, 1024-d, CPU), "faceplugin-fr" (512-d ONNX, its file
 * placed by fetch-weights.ts), "fusion-fr-faceres" (both in one vector; default for new
 * characters where offered, else human-faceres: core/characters/thresholds.ts) and
 * "insightface" (SCRFD + ArcFace on onnxruntime, 512-d, operator-supplied weights).
 * Each response names its model and embedding dimension; embeddings of different models
 * are never compared (core/characters verify() refuses).
 */
import { FarmError } from "../../core/errors.ts";
import { definePlugin, type ModelSpec, type PluginInitContext, type TaskContext } from "../../core/plugin-contract.ts";
import { FaceApiBackend } from "./faceapi-backend.ts";
import { FACE_API_FILES } from "./faceapi-loader.ts";
import { FACEPLUGIN_FILES, FACEPLUGIN_MODEL, FacepluginBackend } from "./faceplugin/backend.ts";
import { FUSION_MODEL, FusionBackend } from "./fusion/backend.ts";
import { InsightFaceBackend, INSIGHTFACE_FILES } from "./insightface/backend.ts";
import { DEFAULT_JOB_SETTINGS, runDetect, runEmbed, runEmbedReferences, type JobSettings } from "./jobs.ts";
import { FaceApiWorkerBackend, FaceWorkerBackend } from "./worker/client.ts";
import { HUMAN_MODEL_FILES } from "./human/loader.ts";
import { modelParam } from "./params.ts";
import { DEFAULT_FACE_MODEL, FACE_DETECT, FACE_EMBED, FACE_EMBED_REFERENCES, FACE_MODELS } from "./job-types.ts";
import type { FaceBackend } from "./types.ts";

// The models and job types are job-types.ts's (pure data the API reads too).
export { DEFAULT_FACE_MODEL, FACE_MODELS } from "./job-types.ts";
const models: string[] = [...FACE_MODELS];

/** Backends loaded by this process, by model id (face-api loads once per process). */
const loaded = new Map<string, Promise<FaceBackend>>();

interface LoadCtx {
  modelsDir: string;
  gpus: readonly unknown[];
  config: Record<string, unknown>;
}

function num(config: Record<string, unknown>, key: string): number | undefined {
  const v = config[key];
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

export function getFaceBackend(model: string, ctx: LoadCtx): Promise<FaceBackend> {
  let p = loaded.get(model);
  if (!p) {
    if (model === "face-api") {
      const detector = ctx.config.detector;
      if (detector !== undefined && detector !== "fast" && detector !== "accurate") {
        throw new FarmError("VALIDATION_ERROR", 'plugins.face.detector must be "fast" or "accurate"', { field: "detector", constraint: "fast | accurate" });
      }
      // Off the main thread unless config says `off_thread: false` (debugging, profiling).
      const create = ctx.config.off_thread === false ? FaceApiBackend.create : FaceApiWorkerBackend.create;
      p = create({
        minConfidence: num(ctx.config, "min_confidence"),
        tileAbove: num(ctx.config, "tile_above"),
        tileSize: num(ctx.config, "tile_size"),
        detector,
        tinyInputSize: num(ctx.config, "tiny_input_size"),
        tinyMinConfidence: num(ctx.config, "tiny_min_confidence"),
        fastMinFace: num(ctx.config, "fast_min_face"),
      });
    } else if (model === "human-faceres") {
      // Always in a worker thread: one human pass (detector + mesh + descriptor) is ~0.3 s of wasm.
      p = FaceWorkerBackend.start("human-faceres");
    } else if (model === FACEPLUGIN_MODEL) {
      // Detection and landmarks from the human-faceres worker (shared), the descriptor on onnxruntime.
      p = getFaceBackend("human-faceres", ctx).then((detector) =>
        FacepluginBackend.create({ modelsDir: ctx.modelsDir, detector, threads: num(ctx.config, "onnx_threads") }),
      );
    } else if (model === FUSION_MODEL) {
      // Both parts under their own ids (shared with jobs that name them), fused per face.
      p = Promise.all([getFaceBackend(FACEPLUGIN_MODEL, ctx), getFaceBackend("human-faceres", ctx)]).then(([fr, faceres]) => new FusionBackend(fr, faceres));
    } else if (model === "insightface") {
      p = InsightFaceBackend.create({ modelsDir: ctx.modelsDir, cuda: ctx.gpus.length > 0, threads: num(ctx.config, "onnx_threads") });
    } else {
      throw new FarmError("VALIDATION_ERROR", `unknown face model '${model}'`, { field: "model", constraint: models.join(", ") });
    }
    const attempt = p;
    // A failed load (missing weights) is retried on the next request, not cached.
    attempt.catch(() => {
      if (loaded.get(model) === attempt) loaded.delete(model);
    });
    loaded.set(model, attempt);
  }
  return p;
}

/** Work cap and rotation-search default from `plugins.face` config; bad values are a config error. */
export function jobSettings(config: Record<string, unknown>): JobSettings {
  const maxSide = num(config, "max_side") ?? DEFAULT_JOB_SETTINGS.maxSide;
  if (!Number.isInteger(maxSide) || maxSide < 256 || maxSide > 16384)
    throw new FarmError("VALIDATION_ERROR", "plugins.face.max_side must be an integer in 256-16384", { field: "max_side", constraint: "256-16384" });
  const rs = config.rotation_search;
  if (rs !== undefined && typeof rs !== "boolean")
    throw new FarmError("VALIDATION_ERROR", "plugins.face.rotation_search must be true or false", { field: "rotation_search", constraint: "boolean" });
  return { maxSide, rotationSearch: rs ?? DEFAULT_JOB_SETTINGS.rotationSearch };
}

function isBackend(h: unknown, model: string): h is FaceBackend {
  return typeof h === "object" && h !== null && (h as FaceBackend).model === model && typeof (h as FaceBackend).detect === "function";
}

const plugin = definePlugin({
  manifest: {
    name: "face",
    version: "0.1.0",
    description: "Face detection, 5-point landmarks and identity embeddings (face-api on CPU; InsightFace SCRFD+ArcFace on ONNX)",
    runtime: "tfjs",
    job_types: [FACE_DETECT, FACE_EMBED, FACE_EMBED_REFERENCES],
    models: [
      {
        id: "face-api",
        vram_mb: 0,
        files: [],
        description: `@vladmandic/face-api TinyFaceDetector ("fast", default) / SSD MobileNet v1 ("accurate") + 68 landmarks + 128-d descriptor on tfjs-wasm; weights ship in the npm package (${FACE_API_FILES.length} files)`,
        license: "MIT (weights bundled with @vladmandic/face-api)",
      },
      {
        id: "human-faceres",
        vram_mb: 0,
        files: [],
        description: `@vladmandic/human blazeface + facemesh + faceres (1024-d) on tfjs-wasm, in a worker thread; weights ship in the npm package (${HUMAN_MODEL_FILES.length} files); default for new characters where no node offers fusion-fr-faceres`,
        license: "MIT (weights bundled with @vladmandic/human)",
      },
      {
        id: FACEPLUGIN_MODEL,
        vram_mb: 0,
        files: [...FACEPLUGIN_FILES],
        description:
          "human blazeface + facemesh landmarks, ArcFace-template alignment, 512-d MobileFaceNet-style descriptor (fr_feature.onnx from the npm package faceplugin-face-recognition-js 0.0.1) on onnxruntime CPU; plugins/face/faceplugin/fetch-weights.ts places the file",
        license: "MIT (npm package faceplugin-face-recognition-js; the weights carry no separate licence)",
      },
      {
        id: FUSION_MODEL,
        vram_mb: 0,
        files: [...FACEPLUGIN_FILES],
        description:
          "faceplugin-fr and human-faceres on the same face, fused into one 1536-d vector (weighted concatenation: cosine = 0.439 x faceplugin-fr's + 0.561 x human-faceres'); needs faceplugin-fr's file",
        license: "MIT (both parts)",
      },
      {
        id: "insightface",
        vram_mb: 2048,
        cpu_fallback: true,
        files: [...INSIGHTFACE_FILES],
        description: "InsightFace buffalo_l: SCRFD det_10g detector + ArcFace w600k_r50 (512-d) on onnxruntime",
        license: "InsightFace pretrained weights: non-commercial research use only; operators supply them",
      },
    ] satisfies ModelSpec[],
  },

  async init(ctx: PluginInitContext) {
    // Load the CPU default up front so the first job does not pay the model load. A failure
    // is logged, not thrown: InsightFace may still work, and face-api jobs retry the load
    // and fail with its MODEL_ERROR.
    try {
      await getFaceBackend(DEFAULT_FACE_MODEL, ctx);
    } catch (err) {
      ctx.logger.warn("face-api failed to load; face-api jobs will fail until it does", { error: (err as Error).message });
    }
  },

  async load(model: ModelSpec, ctx: PluginInitContext) {
    return getFaceBackend(model.id, ctx);
  },

  async unload(model: ModelSpec, handle: unknown) {
    // face-api stays for the process lifetime (its tfjs state is global); ONNX sessions and the human worker are freed.
    if (
      (model.id === "insightface" || model.id === "human-faceres" || model.id === FACEPLUGIN_MODEL || model.id === FUSION_MODEL) &&
      isBackend(handle, model.id)
    ) {
      loaded.delete(model.id);
      await handle.dispose?.();
    }
  },

  async run(task, ctx: TaskContext) {
    const params = task.params ?? {};
    const model = modelParam(params, task.model, models, DEFAULT_FACE_MODEL);
    const backend = isBackend(ctx.model, model) ? ctx.model : await getFaceBackend(model, ctx);
    const settings = jobSettings(ctx.config);
    switch (task.type) {
      case "face.detect":
        return runDetect(backend, params, ctx, settings);
      case "face.embed":
        return runEmbed(backend, params, ctx, settings);
      case "face.embed_references":
        return runEmbedReferences(backend, params, ctx, settings);
      default:
        throw new FarmError("VALIDATION_ERROR", `face plugin does not run '${task.type}'`, {
          field: "type",
          constraint: "face.detect | face.embed | face.embed_references",
        });
    }
  },
});

export default plugin;
export { FaceApiBackend } from "./faceapi-backend.ts";
export { FaceApiWorkerBackend } from "./worker/client.ts";
export { InsightFaceBackend, INSIGHTFACE_FILES } from "./insightface/backend.ts";
export { FacepluginBackend, FACEPLUGIN_FILES, FACEPLUGIN_MODEL } from "./faceplugin/backend.ts";
export type { DetectedFace, FaceBackend, Landmarks5, RgbImage } from "./types.ts";
