/**
 * buildWorkflow(): a request -> a filled API-format workflow for ComfyUI.
 *
 * Out-of-range values are rejected, not clamped: a clamped width or step count would come back
 * in metadata as something the caller did not ask for. Each rejection is VALIDATION_ERROR
 * naming the field, the constraint and the allowed range, so the API answers 400 in the spec's
 * envelope. Fields a model has no use for (negative prompt at cfg 1.0) are ignored and listed
 * in `ignored`; knobs a model does not take (cfg on a distilled model) are rejected.
 */
import { randomInt } from "node:crypto";
import { FarmError, validation } from "../../../core/errors.ts";
import type { ApiLink, ApiWorkflow } from "../client/types.ts";
import { COMFY_MODELS, type ComfyMode, type FaceMethod, type ModelRequirements, type NumberRule } from "./models.ts";
import { loadTemplate, type BindableField } from "./templates.ts";

export interface GenerateRequest {
  mode: ComfyMode;
  prompt: string;
  negative_prompt?: string;
  width: number;
  height: number;
  /** uint32; random when absent (and always returned). */
  seed?: number;
  steps?: number;
  /** Classifier-free guidance. `cfg` is the same knob under ComfyUI's name; give one. */
  guidance_scale?: number;
  cfg?: number;
  sampler?: string;
  /** Video: frames (8n+1) and frames per second. */
  num_frames?: number;
  fps?: number;
  /** Flux-dev distilled guidance (FluxGuidance). For flux.1-dev, guidance_scale means this too. */
  guidance?: number;
  /** i2v: the name /upload/image returned (with its subfolder, "sub/name.png"). */
  start_image?: string;
  /** face_ref: names /upload/image returned, 1-4. */
  reference_images?: string[];
  /** face_ref: which method's template (default: the model's first). */
  face_method?: FaceMethod;
  /**
   * The size is a platform preset's, not typed by the caller (api/image-platform.ts): scaled
   * down into the model's range with the aspect ratio kept and snapped to its grid, instead of
   * rejected. A typed size is never changed.
   */
  fit_size?: boolean;
}

export interface BuiltWorkflow {
  workflow: ApiWorkflow;
  seed: number;
  outputNode: string;
  /** Request fields the model has no use for and that were left out (e.g. negative_prompt at cfg 1.0). */
  ignored: string[];
  /** Values actually used (defaults filled in), for job metadata. */
  used: { steps: number; cfg?: number; guidance?: number; sampler?: string; num_frames?: number; fps?: number; width: number; height: number };
}

const MAX_SEED = 2 ** 32 - 1;
const MAX_REFERENCES = 4;

export function findModel(modelId: string, mode: ComfyMode, method?: FaceMethod): ModelRequirements {
  const entries = COMFY_MODELS.filter((m) => m.model_id === modelId);
  if (entries.length === 0) {
    throw validation("model", "enum", `model '${modelId}' is not a ComfyUI model (known: ${[...new Set(COMFY_MODELS.map((m) => m.model_id))].join(", ")})`);
  }
  const entry = entries.find((m) => m.modes.includes(mode) && (method === undefined || m.face_method === method));
  if (!entry) {
    // Name the request field that asked for the mode, so the 400 points at what to change.
    const field = mode === "face_ref" ? "reference_images" : mode === "i2v" ? "start_image" : "mode";
    const offering = [...new Set(COMFY_MODELS.filter((m) => m.modes.includes(mode)).map((m) => m.model_id))];
    throw validation(
      field,
      "unsupported",
      `model '${modelId}' has no ${mode} workflow (it does: ${entries.flatMap((m) => m.modes).join(", ")}; ${mode} is offered by: ${offering.join(", ") || "none"})`,
    );
  }
  return entry;
}

function checkNumber(field: string, value: number | undefined, rule: NumberRule | undefined, model: string, integer: boolean): number | undefined {
  if (value === undefined) return rule?.default;
  if (!rule) throw validation(field, "unsupported", `${model} does not take ${field} (it is fixed by the model's distillation)`);
  if (typeof value !== "number" || !Number.isFinite(value)) throw validation(field, "type", `${field} must be a number`);
  if (integer && !Number.isInteger(value)) throw validation(field, "integer", `${field} must be an integer`);
  if (value < rule.min || value > rule.max)
    throw validation(field, "range", `${field} must be between ${rule.min} and ${rule.max} for ${model} (got ${value})`, { min: rule.min, max: rule.max });
  return value;
}

function checkSize(field: "width" | "height", value: number, m: ModelRequirements): number {
  const p = m.params;
  if (typeof value !== "number" || !Number.isInteger(value)) throw validation(field, "integer", `${field} must be an integer number of pixels`);
  if (value < p.size_min || value > p.size_max)
    throw validation(field, "range", `${field} must be between ${p.size_min} and ${p.size_max} for ${m.model_id} (got ${value})`, {
      min: p.size_min,
      max: p.size_max,
    });
  if (value % p.size_multiple !== 0)
    throw validation(field, "multiple_of", `${field} must be a multiple of ${p.size_multiple} for ${m.model_id} (got ${value})`, {
      multiple_of: p.size_multiple,
    });
  return value;
}

/** A preset's size within the model's range (longest side at most size_max), aspect kept, on its grid. */
export function fitSize(width: number, height: number, m: Pick<ModelRequirements, "params">): { width: number; height: number } {
  const p = m.params;
  const scale = Math.min(1, p.size_max / Math.max(width, height));
  const snap = (v: number) => Math.min(p.size_max, Math.max(p.size_min, Math.round((v * scale) / p.size_multiple) * p.size_multiple));
  return { width: snap(width), height: snap(height) };
}

function uploadedName(field: string, v: unknown): string {
  if (typeof v !== "string" || v.trim() === "" || v.includes("..") || v.startsWith("/")) {
    throw validation(field, "uploaded_name", `${field} must be a file name returned by ComfyUI's /upload/image`);
  }
  return v;
}

/** Builds the workflow for `modelId` in `req.mode`. `random` draws the seed when none is given (injectable for tests). */
export function buildWorkflow(modelId: string, req: GenerateRequest, random: () => number = () => randomInt(0, MAX_SEED + 1)): BuiltWorkflow {
  const m = findModel(modelId, req.mode, req.mode === "face_ref" ? req.face_method : undefined);
  const p = m.params;
  const tpl = loadTemplate(m.templates[req.mode]!);
  const ignored: string[] = [];

  if (typeof req.prompt !== "string" || req.prompt.trim() === "") throw validation("prompt", "required", "prompt must be a non-empty string");
  const fitted = req.fit_size ? fitSize(req.width, req.height, m) : { width: req.width, height: req.height };
  const width = checkSize("width", fitted.width, m);
  const height = checkSize("height", fitted.height, m);
  if (req.seed !== undefined && (!Number.isInteger(req.seed) || req.seed < 0 || req.seed > MAX_SEED)) {
    throw validation("seed", "range", `seed must be an integer between 0 and ${MAX_SEED}`);
  }
  const seed = req.seed ?? random();
  const steps = checkNumber("steps", req.steps, p.steps, modelId, true)!;
  if (req.cfg !== undefined && req.guidance_scale !== undefined && req.cfg !== req.guidance_scale) {
    throw validation("guidance_scale", "conflict", "give guidance_scale or cfg, not two different values");
  }
  // On flux.1-dev, guidance_scale is the distilled guidance (as in diffusers' FluxPipeline), not CFG.
  const cfgIn = p.cfg || !p.guidance ? (req.cfg ?? req.guidance_scale) : req.cfg;
  const guidanceIn = p.guidance && !p.cfg ? (req.guidance ?? req.guidance_scale) : req.guidance;
  const cfg = checkNumber(req.cfg !== undefined ? "cfg" : "guidance_scale", cfgIn, p.cfg, modelId, false);
  const guidance = checkNumber("guidance", guidanceIn, p.guidance, modelId, false);
  let sampler: string | undefined;
  if (req.sampler !== undefined) {
    if (!p.samplers.includes(req.sampler))
      throw validation("sampler", "enum", `sampler must be one of ${p.samplers.join(", ")} for ${modelId}`, { allowed: p.samplers });
    sampler = req.sampler;
  }
  const video = m.job_type === "video.generate";
  let numFrames: number | undefined;
  let fps: number | undefined;
  if (video) {
    numFrames = checkNumber("num_frames", req.num_frames, p.num_frames, modelId, true)!;
    if ((numFrames - 1) % 8 !== 0)
      throw validation("num_frames", "8n+1", `num_frames must be of the form 8n+1 (9, 17, ..., 97, 121) for ${modelId} (got ${numFrames})`);
    fps = checkNumber("fps", req.fps, p.fps, modelId, false)!;
  } else {
    if (req.num_frames !== undefined) throw validation("num_frames", "unsupported", `${modelId} makes images; num_frames is for video models`);
    if (req.fps !== undefined) throw validation("fps", "unsupported", `${modelId} makes images; fps is for video models`);
  }
  if (req.negative_prompt !== undefined && typeof req.negative_prompt !== "string")
    throw validation("negative_prompt", "type", "negative_prompt must be a string");
  if (req.negative_prompt && !tpl.bindings.negative_prompt) ignored.push("negative_prompt");

  const values: Partial<Record<BindableField, unknown>> = {
    prompt: req.prompt,
    width,
    height,
    seed,
    steps,
    cfg,
    guidance,
    sampler,
    num_frames: numFrames,
    fps,
  };
  if (req.negative_prompt !== undefined && tpl.bindings.negative_prompt) values.negative_prompt = req.negative_prompt;
  if (req.mode === "i2v") {
    if (req.start_image === undefined) throw validation("start_image", "required", "image-to-video needs start_image (an uploaded image)");
    values.start_image = uploadedName("start_image", req.start_image);
  } else if (req.start_image !== undefined) {
    throw validation("start_image", "unsupported", `start_image is only for image-to-video (mode ${req.mode})`);
  }

  for (const [field, targets] of Object.entries(tpl.bindings) as [BindableField, [string, string][]][]) {
    const v = values[field];
    if (v === undefined || field === "reference_images") continue;
    for (const [node, input] of targets) tpl.prompt[node]!.inputs[input] = v as string | number;
  }
  if (req.mode === "face_ref") bindReferences(tpl.prompt, tpl.bindings.reference_images ?? [], req.reference_images);
  else if (req.reference_images !== undefined && req.reference_images.length > 0) {
    throw validation("reference_images", "unsupported", `reference_images need a face-reference model variant (mode face_ref)`);
  }
  if (!tpl.prompt[tpl.output_node]) throw new FarmError("INTERNAL_ERROR", `template for ${modelId} ${req.mode} has no output node ${tpl.output_node}`);
  return {
    workflow: tpl.prompt,
    seed,
    outputNode: tpl.output_node,
    ignored,
    used: { steps, cfg, guidance, sampler: sampler ?? templateSampler(tpl.prompt, tpl.bindings.sampler), num_frames: numFrames, fps, width, height },
  };
}

function templateSampler(prompt: ApiWorkflow, targets: [string, string][] | undefined): string | undefined {
  const t = targets?.[0];
  const v = t ? prompt[t[0]]?.inputs[t[1]] : undefined;
  return typeof v === "string" ? v : undefined;
}

/**
 * The template's one LoadImage takes the first reference; each further one gets its own
 * LoadImage, folded in with core ImageBatch nodes (ImageBatch rescales image2 to image1's size),
 * and the batch replaces the first image wherever the template used it.
 */
function bindReferences(prompt: ApiWorkflow, targets: [string, string][], refs: string[] | undefined): void {
  if (!Array.isArray(refs) || refs.length === 0) throw validation("reference_images", "required", "a face-reference workflow needs 1 to 4 reference_images");
  if (refs.length > MAX_REFERENCES) throw validation("reference_images", "max_items", `at most ${MAX_REFERENCES} reference_images (got ${refs.length})`);
  const [first] = targets;
  if (!first) throw new FarmError("INTERNAL_ERROR", "face-reference template binds no reference image");
  const [loadNode, loadInput] = first;
  prompt[loadNode]!.inputs[loadInput] = uploadedName("reference_images[0]", refs[0]);
  let batch: ApiLink = [loadNode, 0];
  refs.slice(1).forEach((ref, i) => {
    const id = `ref_${i + 1}`;
    prompt[id] = { class_type: "LoadImage", _meta: { title: `Reference face ${i + 2}` }, inputs: { image: uploadedName(`reference_images[${i + 1}]`, ref) } };
    prompt[`refbatch_${i + 1}`] = { class_type: "ImageBatch", _meta: { title: "Reference batch" }, inputs: { image1: batch, image2: [id, 0] } };
    batch = [`refbatch_${i + 1}`, 0];
  });
  if (refs.length === 1) return;
  for (const [id, node] of Object.entries(prompt)) {
    if (id.startsWith("refbatch_")) continue;
    for (const [k, v] of Object.entries(node.inputs)) {
      if (Array.isArray(v) && v[0] === loadNode && v[1] === 0) node.inputs[k] = batch;
    }
  }
}
