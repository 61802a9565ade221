/**
 * The comfyui manifest, built from data: every model of the catalog (models/*.yaml,
 * runtime comfyui) that has a workflow template (workflows' COMFY_MODELS). VRAM, licence
 * and description come from the catalog; `files` name where each weight goes in a ComfyUI
 * install (models/<folder>/<file>), for operators: the files are found at run time through
 * /object_info, not under paths.models. test/integration/comfyui-plugin.test.ts keeps the
 * catalog and COMFY_MODELS in step (same ids, files and VRAM).
 */
import type { JobTypeSpec, PluginManifest } from "../../core/plugin-contract.ts";
import { catalogModels } from "../../models/catalog.ts";
import { withModels } from "../../core/job-types/define.ts";
import { IMAGE_DEFAULT_MODEL, IMAGE_GENERATE } from "../../core/job-types/image-generate.ts";
import { VIDEO_ANIMATE } from "../../core/job-types/video-animate.ts";
import { VIDEO_DEFAULT_MODEL, VIDEO_GENERATE } from "./job-types.ts";

/** The fields of workflows' ModelRequirements this manifest reads. */
export interface TemplateModel {
  model_id: string;
  job_type: string;
  modes: readonly string[];
  vram_mb: number;
  license: string;
}

/**
 * A model's face-reference variant is advertised as "<id>:face_ref" (what the coordinator
 * looks for before accepting a character_id request); a task for it runs the base model's
 * face_ref workflow.
 */
export const FACE_REF = ":face_ref";

const DEFAULTS: Record<string, string> = { "image.generate": IMAGE_DEFAULT_MODEL, "video.generate": VIDEO_DEFAULT_MODEL };

export function comfyManifest(templates: readonly TemplateModel[]): PluginManifest {
  const catalog = catalogModels({ runtime: "comfyui" });
  const offered = catalog.filter((c) => templates.some((t) => t.model_id === c.id));
  // One "<id>:face_ref" per model, however many face-reference methods it has (the first one's
  // licence stands for the variant; the job runs whichever method its instance can).
  const faceRef = templates.filter(
    (t, i) =>
      t.modes.includes("face_ref") &&
      offered.some((c) => c.id === t.model_id) &&
      templates.findIndex((u) => u.model_id === t.model_id && u.modes.includes("face_ref")) === i,
  );
  const job_types: JobTypeSpec[] = [];
  // video.animate (/video/animate with model "<id>") runs a model's image-to-video workflow.
  // No default model for it: a request without one is Ken Burns (the video plugin's).
  const animators = offered.filter((c) => templates.some((t) => t.model_id === c.id && t.modes.includes("i2v"))).map((c) => c.id);
  for (const type of ["image.generate", "video.generate", "video.animate"]) {
    const models =
      type === "video.animate"
        ? animators
        : [
            ...offered.filter((m) => m.job_types.includes(type)).map((m) => m.id),
            ...faceRef.filter((t) => t.job_type === type).map((t) => `${t.model_id}${FACE_REF}`),
          ];
    if (models.length === 0) continue;
    const dflt = DEFAULTS[type];
    const withDefault = dflt && models.includes(dflt) ? { default_model: dflt } : {};
    // Each type's one definition, with ComfyUI's models: image.generate's is shared with
    // plugins/remote-image and video.animate's with plugins/video (core/job-types/), video.generate's is ours.
    if (type === "image.generate") job_types.push(withModels(IMAGE_GENERATE, models, { description: "Text-to-image on ComfyUI (SDXL, Flux)", ...withDefault }));
    else if (type === "video.generate") job_types.push(withModels(VIDEO_GENERATE, models, withDefault));
    else job_types.push(withModels(VIDEO_ANIMATE, models, { description: "A still animated by an image-to-video model on ComfyUI (LTX-Video)" }));
  }
  return {
    name: "comfyui",
    version: "1.0.0",
    description: "Generative image and video models on ComfyUI servers, one per GPU (attached or supervised)",
    runtime: "comfyui",
    job_types,
    models: [
      ...offered.map((m) => ({
        id: m.id,
        vram_mb: m.vram_mb,
        files: m.files.map((f) => `${f.folder ?? "."}/${f.file}`),
        license: m.license,
        description: m.description ?? `${m.family} (${m.source})`,
      })),
      // The variant may run any of its methods: reserve the largest need among them.
      ...faceRef.map((t) => ({
        id: `${t.model_id}${FACE_REF}`,
        vram_mb: Math.max(...templates.filter((u) => u.model_id === t.model_id && u.modes.includes("face_ref")).map((u) => u.vram_mb)),
        files: [],
        license: t.license,
        description: `${t.model_id} with a face-reference workflow (reference_images, character_id): IP-Adapter FaceID, InstantID or PuLID, whichever the instance has`,
      })),
    ],
  };
}
