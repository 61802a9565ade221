/**
 * What each ComfyUI-served model needs (node classes, weight files, VRAM) and which request
 * parameters it takes, with the ranges it allows. Data, read by availableModels() and
 * buildWorkflow(); the templates themselves are the JSON files in ./templates.
 *
 * VRAM figures are per GPU while the model is loaded, MiB, from published figures:
 *  - SDXL base 1.0 (fp16, 1024²): Stability AI's SDXL announcement asks for an NVIDIA GPU with
 *    at least 8 GB VRAM; with the VAE decode at 1024² ComfyUI peaks near 9-10 GB -> 10240.
 *  - SDXL-Turbo (same 2.6B UNet, fp16 file, 512²): ~8 GB -> 8192 (stabilityai/sdxl-turbo model card: SDXL architecture).
 *  - FLUX.1-schnell fp8 checkpoint (flux1-schnell-fp8.safetensors, ~17 GB file incl. fp8 T5):
 *    ComfyUI's Flux page offers it as the lower-memory option; 12-16 GB reported -> 16384.
 *  - FLUX.1-dev (12B UNet loaded as fp8_e4m3fn ≈ 12 GB + T5/CLIP offloaded by ComfyUI) -> 16384;
 *    at weight_dtype default (fp16, 23.8 GB file) it needs a 24 GB+ card.
 *  - LTX-Video 0.9.7 13B distilled fp8 (ltxv-13b-0.9.7-distilled-fp8.safetensors ≈ 15 GB,
 *    huggingface.co/Lightricks/LTX-Video): 12-16 GB at 768x512x97 -> 16384.
 *  - SDXL + IPAdapter FaceID Plus V2: SDXL plus the IP-Adapter (~1.5 GB), its LoRA and the
 *    CLIP-ViT-H vision encoder (~2.5 GB) -> 12288.
 */

export type ComfyMode = "t2i" | "t2v" | "i2v" | "face_ref";

/**
 * How a face_ref workflow carries the reference faces: IP-Adapter FaceID (cubiq/ComfyUI_IPAdapter_plus),
 * InstantID (cubiq/ComfyUI_InstantID) or PuLID (cubiq/PuLID_ComfyUI). A model may have several;
 * its "<id>:face_ref" variant is offered when an instance can run any of them, and a job runs
 * the first one (in COMFY_MODELS order) that the task's instance can run.
 */
export type FaceMethod = "ipadapter_faceid" | "instantid" | "pulid";

export interface ModelRequirements {
  model_id: string;
  job_type: "image.generate" | "video.generate";
  modes: ComfyMode[];
  /** face_ref entries: which face-reference method the template uses. */
  face_method?: FaceMethod;
  /** Node classes the templates use (all must be in /object_info). */
  nodes: string[];
  /** Weight files a loader COMBO must offer: folder (ComfyUI models/<folder>), the loader input that lists it, the file. */
  files: { folder: string; input: { node: string; name: string }; file: string }[];
  /**
   * Weight files loaders find by name, not offered as a COMBO option in /object_info
   * (IPAdapter's unified loader): check them with ComfyClient.listModels(folder).
   */
  unlisted_files?: { folder: string; file: string }[];
  vram_mb: number;
  /** Where the VRAM figure comes from (published figure or file size it is derived from). */
  vram_source: string;
  license: string;
  source: string;
  /** Template file per mode, in ./templates. */
  templates: Partial<Record<ComfyMode, string>>;
  params: ParamRules;
}

/** A numeric request parameter the model takes: its range and default. */
export interface NumberRule {
  min: number;
  max: number;
  default: number;
}

export interface ParamRules {
  /** Width and height must be multiples of this (the latent / patch grid). */
  size_multiple: number;
  size_min: number;
  size_max: number;
  steps: NumberRule;
  /** Classifier-free guidance; absent = fixed by distillation, any value is rejected. */
  cfg?: NumberRule;
  /** Flux's distilled guidance (FluxGuidance); absent = not taken. */
  guidance?: NumberRule;
  /** Samplers the model is known to work with (KSamplerSelect / KSampler names). */
  samplers: string[];
  /** Video only. */
  num_frames?: NumberRule;
  fps?: NumberRule;
  /** Request fields the model has no use for and ignores (reported back in `ignored`). */
  ignores?: string[];
}

const SDXL_SAMPLERS = [
  "euler",
  "euler_ancestral",
  "heun",
  "dpm_2",
  "dpm_2_ancestral",
  "lms",
  "dpmpp_2m",
  "dpmpp_2m_sde",
  "dpmpp_sde",
  "dpmpp_3m_sde",
  "ddim",
  "uni_pc",
];
const SDXL_NODES = ["CheckpointLoaderSimple", "CLIPTextEncode", "EmptyLatentImage", "KSampler", "VAEDecode", "SaveImage"];
const SDXL_LICENSE = "CreativeML Open RAIL++-M (stabilityai/stable-diffusion-xl-base-1.0)";
/** The image size range every SDXL- and Flux-family template here accepts (latent multiples of 8). */
const IMAGE_SIZES = { size_multiple: 8, size_min: 256, size_max: 2048 } as const;
/** SDXL base with a face-reference adapter (IP-Adapter FaceID, PuLID): the pack examples' 30 steps at cfg 6. */
const SDXL_FACE_REF_PARAMS = { ...IMAGE_SIZES, steps: { min: 1, max: 150, default: 30 }, cfg: { min: 1, max: 30, default: 6 }, samplers: SDXL_SAMPLERS };
const LTX_NODES = [
  "CheckpointLoaderSimple",
  "CLIPLoader",
  "CLIPTextEncode",
  "LTXVConditioning",
  "EmptyLTXVLatentVideo",
  "LTXVScheduler",
  "KSamplerSelect",
  "SamplerCustom",
  "VAEDecode",
  "CreateVideo",
  "SaveVideo",
];

const sdxlFile = (file: string) => ({ folder: "checkpoints", input: { node: "CheckpointLoaderSimple", name: "ckpt_name" }, file });

export const COMFY_MODELS: readonly ModelRequirements[] = [
  {
    model_id: "sdxl-base-1.0",
    job_type: "image.generate",
    modes: ["t2i"],
    nodes: SDXL_NODES,
    files: [sdxlFile("sd_xl_base_1.0.safetensors")],
    vram_mb: 10240,
    vram_source:
      "Stability AI SDXL announcement: NVIDIA GPU with at least 8 GB VRAM (https://stability.ai/news/stable-diffusion-sdxl-1-announcement); +2 GB for the VAE decode at 1024²",
    license: SDXL_LICENSE,
    source:
      "https://huggingface.co/stabilityai/stable-diffusion-xl-base-1.0 (sd_xl_base_1.0.safetensors); VRAM: https://stability.ai/news/stable-diffusion-sdxl-1-announcement",
    templates: { t2i: "sdxl-base-1.0.t2i.json" },
    params: { ...IMAGE_SIZES, steps: { min: 1, max: 150, default: 25 }, cfg: { min: 1, max: 30, default: 7 }, samplers: SDXL_SAMPLERS },
  },
  {
    model_id: "sdxl-turbo",
    job_type: "image.generate",
    modes: ["t2i"],
    nodes: ["CheckpointLoaderSimple", "CLIPTextEncode", "EmptyLatentImage", "SDTurboScheduler", "KSamplerSelect", "SamplerCustom", "VAEDecode", "SaveImage"],
    files: [sdxlFile("sd_xl_turbo_1.0_fp16.safetensors")],
    vram_mb: 8192,
    vram_source: "same SDXL UNet (stabilityai/sdxl-turbo model card) at 512²: the SDXL 8 GB figure",
    license: "Stability AI Non-Commercial Research Community License / SAI Community License (stabilityai/sdxl-turbo)",
    source: "https://huggingface.co/stabilityai/sdxl-turbo (sd_xl_turbo_1.0_fp16.safetensors): 1-4 steps, guidance 0.0 (cfg 1.0 in ComfyUI)",
    templates: { t2i: "sdxl-turbo.t2i.json" },
    // Adversarial-diffusion distilled: trained for 1-4 steps without CFG; the SDTurboScheduler caps steps at 10 anyway.
    params: {
      size_multiple: 8,
      size_min: 256,
      size_max: 1024,
      steps: { min: 1, max: 4, default: 1 },
      samplers: ["euler_ancestral", "euler", "lcm"],
      ignores: ["negative_prompt"],
    },
  },
  {
    model_id: "flux.1-schnell",
    job_type: "image.generate",
    modes: ["t2i"],
    nodes: ["CheckpointLoaderSimple", "CLIPTextEncode", "EmptySD3LatentImage", "KSampler", "VAEDecode", "SaveImage"],
    files: [sdxlFile("flux1-schnell-fp8.safetensors")],
    vram_mb: 16384,
    vram_source:
      "comfyanonymous/ComfyUI_examples flux/README.md offers the fp8 checkpoint as the lower-memory option; flux1-schnell-fp8.safetensors is ~17 GB with its fp8 T5, reported runs at 12-16 GB with ComfyUI offloading the text encoder",
    license: "Apache-2.0 (black-forest-labs/FLUX.1-schnell)",
    source: "https://huggingface.co/Comfy-Org/flux1-schnell (flux1-schnell-fp8.safetensors), per https://comfyanonymous.github.io/ComfyUI_examples/flux/",
    templates: { t2i: "flux.1-schnell.t2i.json" },
    // Timestep-distilled for 1-4 steps at cfg 1.0: a negative prompt has no effect and guidance is not taken.
    params: { ...IMAGE_SIZES, steps: { min: 1, max: 4, default: 4 }, samplers: ["euler", "heun", "dpmpp_2m", "ipndm", "deis"], ignores: ["negative_prompt"] },
  },
  {
    model_id: "flux.1-dev",
    job_type: "image.generate",
    modes: ["t2i"],
    nodes: [
      "UNETLoader",
      "DualCLIPLoader",
      "VAELoader",
      "CLIPTextEncode",
      "FluxGuidance",
      "ModelSamplingFlux",
      "EmptySD3LatentImage",
      "RandomNoise",
      "KSamplerSelect",
      "BasicScheduler",
      "BasicGuider",
      "SamplerCustomAdvanced",
      "VAEDecode",
      "SaveImage",
    ],
    files: [
      { folder: "diffusion_models", input: { node: "UNETLoader", name: "unet_name" }, file: "flux1-dev.safetensors" },
      { folder: "text_encoders", input: { node: "DualCLIPLoader", name: "clip_name1" }, file: "t5xxl_fp16.safetensors" },
      { folder: "text_encoders", input: { node: "DualCLIPLoader", name: "clip_name2" }, file: "clip_l.safetensors" },
      { folder: "vae", input: { node: "VAELoader", name: "vae_name" }, file: "ae.safetensors" },
    ],
    vram_mb: 16384,
    vram_source:
      "12B-parameter UNet at fp8_e4m3fn ≈ 12 GB (ComfyUI_examples flux/README.md: fp8 weight_dtype halves memory of the 23.8 GB fp16 file) + activations at 1024²",
    license: "FLUX.1 [dev] Non-Commercial License (black-forest-labs/FLUX.1-dev)",
    source:
      "https://huggingface.co/black-forest-labs/FLUX.1-dev (flux1-dev.safetensors, ae.safetensors); https://huggingface.co/comfyanonymous/flux_text_encoders (t5xxl_fp16, clip_l)",
    templates: { t2i: "flux.1-dev.t2i.json" },
    // Guidance-distilled: CFG stays 1.0 (BasicGuider), the distilled guidance goes through FluxGuidance.
    params: {
      ...IMAGE_SIZES,
      steps: { min: 1, max: 100, default: 20 },
      guidance: { min: 1, max: 10, default: 3.5 },
      samplers: ["euler", "heun", "dpmpp_2m", "ipndm", "deis"],
      ignores: ["negative_prompt"],
    },
  },
  {
    model_id: "ltx-video-0.9.7-distilled",
    job_type: "video.generate",
    modes: ["t2v", "i2v"],
    nodes: [...LTX_NODES, "LoadImage", "LTXVPreprocess", "LTXVImgToVideo"],
    files: [
      sdxlFile("ltxv-13b-0.9.7-distilled-fp8.safetensors"),
      { folder: "text_encoders", input: { node: "CLIPLoader", name: "clip_name" }, file: "t5xxl_fp16.safetensors" },
    ],
    vram_mb: 16384,
    vram_source: "13B parameters at fp8 ≈ 13-15 GB (ltxv-13b-0.9.7-distilled-fp8.safetensors, huggingface.co/Lightricks/LTX-Video) + activations at 768x512x97",
    license: "LTX-Video Open Weights License 0.9.7 (Lightricks/LTX-Video)",
    source:
      "https://huggingface.co/Lightricks/LTX-Video (ltxv-13b-0.9.7-distilled-fp8.safetensors; distilled: 8 steps, cfg 1); t5xxl_fp16 from https://huggingface.co/comfyanonymous/flux_text_encoders",
    templates: { t2v: "ltx-video-0.9.7-distilled.t2v.json", i2v: "ltx-video-0.9.7-distilled.i2v.json" },
    // Latent grid: 32 px spatially, 8 frames temporally (+1 for the first frame).
    params: {
      size_multiple: 32,
      size_min: 64,
      size_max: 1280,
      steps: { min: 1, max: 20, default: 8 },
      cfg: { min: 1, max: 10, default: 1 },
      samplers: ["euler"],
      num_frames: { min: 9, max: 257, default: 97 },
      fps: { min: 1, max: 60, default: 24 },
    },
  },
  {
    model_id: "sdxl-base-1.0",
    job_type: "image.generate",
    modes: ["face_ref"],
    nodes: [...SDXL_NODES, "LoadImage", "ImageBatch", "IPAdapterUnifiedLoaderFaceID", "IPAdapterFaceID"],
    files: [sdxlFile("sd_xl_base_1.0.safetensors")],
    unlisted_files: [
      { folder: "ipadapter", file: "ip-adapter-faceid-plusv2_sdxl.bin" },
      { folder: "loras", file: "ip-adapter-faceid-plusv2_sdxl_lora.safetensors" },
      { folder: "clip_vision", file: "CLIP-ViT-H-14-laion2B-s32B-b79K.safetensors" },
    ],
    face_method: "ipadapter_faceid",
    vram_mb: 12288,
    vram_source: "SDXL (10 GB) + IP-Adapter FaceID Plus V2 SDXL (~1.5 GB) + CLIP-ViT-H-14 vision encoder (~2.5 GB file, fp16 on GPU ~1.3 GB)",
    license: `${SDXL_LICENSE}; IP-Adapter FaceID: non-commercial research (h94/IP-Adapter-FaceID, uses InsightFace buffalo_l)`,
    source:
      "https://huggingface.co/h94/IP-Adapter-FaceID (ip-adapter-faceid-plusv2_sdxl.bin + LoRA); node pack cubiq/ComfyUI_IPAdapter_plus (README lists the file names and folders)",
    templates: { face_ref: "sdxl-base-1.0.face_ref.json" },
    params: SDXL_FACE_REF_PARAMS,
  },
  {
    model_id: "sdxl-base-1.0",
    job_type: "image.generate",
    modes: ["face_ref"],
    face_method: "instantid",
    nodes: [...SDXL_NODES, "LoadImage", "ImageBatch", "InstantIDModelLoader", "InstantIDFaceAnalysis", "ControlNetLoader", "ApplyInstantID"],
    files: [
      sdxlFile("sd_xl_base_1.0.safetensors"),
      { folder: "instantid", input: { node: "InstantIDModelLoader", name: "instantid_file" }, file: "ip-adapter.bin" },
      { folder: "controlnet", input: { node: "ControlNetLoader", name: "control_net_name" }, file: "instantid/diffusion_pytorch_model.safetensors" },
    ],
    vram_mb: 14336,
    vram_source:
      "SDXL (10 GB) + InstantID's IP-Adapter (ip-adapter.bin, 1.7 GB) + its ControlNet (ControlNetModel/diffusion_pytorch_model.safetensors, 2.5 GB fp16) + antelopev2 on CUDA (~0.4 GB); file sizes from huggingface.co/InstantX/InstantID",
    license: `${SDXL_LICENSE}; InstantID: Apache-2.0 (InstantX/InstantID); its face analysis uses InsightFace antelopev2 (non-commercial research only)`,
    source:
      "https://huggingface.co/InstantX/InstantID (ip-adapter.bin, ControlNetModel); node pack cubiq/ComfyUI_InstantID (README: models/instantid/ip-adapter.bin, models/controlnet/, antelopev2 in models/insightface/models/antelopev2, which the API does not list: a missing one fails the run naming InstantIDFaceAnalysis)",
    templates: { face_ref: "sdxl-base-1.0.face_ref.instantid.json" },
    // cubiq's InstantID examples run 30 steps at cfg 4.5: the face ControlNet burns in at SDXL's usual 7.
    params: { ...IMAGE_SIZES, steps: { min: 1, max: 150, default: 30 }, cfg: { min: 1, max: 30, default: 4.5 }, samplers: [...SDXL_SAMPLERS, "ddpm"] },
  },
  {
    model_id: "sdxl-base-1.0",
    job_type: "image.generate",
    modes: ["face_ref"],
    face_method: "pulid",
    nodes: [...SDXL_NODES, "LoadImage", "ImageBatch", "PulidModelLoader", "PulidInsightFaceLoader", "PulidEvaClipLoader", "ApplyPulid"],
    files: [
      sdxlFile("sd_xl_base_1.0.safetensors"),
      { folder: "pulid", input: { node: "PulidModelLoader", name: "pulid_file" }, file: "ip-adapter_pulid_sdxl_fp16.safetensors" },
    ],
    vram_mb: 12288,
    vram_source:
      "SDXL (10 GB) + PuLID SDXL adapter (ip-adapter_pulid_sdxl_fp16.safetensors, ~0.8 GB) + EVA02-CLIP-L-14-336 (~0.9 GB fp16) + antelopev2 and facexlib's detectors (~0.5 GB)",
    license: `${SDXL_LICENSE}; PuLID: Apache-2.0 (ToTheBeginning/PuLID, huchenlei/ipadapter_pulid); its face analysis uses InsightFace antelopev2 (non-commercial research only)`,
    source:
      "https://huggingface.co/huchenlei/ipadapter_pulid (ip-adapter_pulid_sdxl_fp16.safetensors); node pack cubiq/PuLID_ComfyUI (README: models/pulid/, antelopev2 in models/insightface/models/antelopev2; EVA-CLIP and facexlib weights are fetched by the node into its cache, so an offline node needs them placed there)",
    templates: { face_ref: "sdxl-base-1.0.face_ref.pulid.json" },
    params: SDXL_FACE_REF_PARAMS,
  },
];

/** The key availableModels() reports an entry under: the model id, or "<id>:face_ref" for a face-reference variant. */
export function variantKey(m: Pick<ModelRequirements, "model_id" | "modes">): string {
  return m.modes.includes("face_ref") ? `${m.model_id}:face_ref` : m.model_id;
}
