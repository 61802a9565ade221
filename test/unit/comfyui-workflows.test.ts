/**
 * ComfyUI workflow templates against a real ComfyUI's recorded /object_info
 * (test/fixtures/comfyui/object_info.json, see SOURCE.md), validated with the stand-in's port of
 * execution.validate_prompt: a template that names a node class, an input or a COMBO value the
 * real server does not have fails here as it would fail on that server. Plus availableModels()
 * and buildWorkflow()'s parameter rules.
 */
import { describe, test } from "vitest";
import assert from "node:assert/strict";
import { FarmError } from "../../core/errors.ts";
import type { ApiWorkflow, ObjectInfo } from "../../plugins/comfyui/client/types.ts";
import { availableModels, buildWorkflow, COMFY_MODELS, loadTemplate, variantKey, type GenerateRequest } from "../../plugins/comfyui/workflows/index.ts";
import { faceIdObjectInfo, fixtureObjectInfo, withFolders } from "../fixtures/comfyui/standin.ts";
import { loadImageCheck, validatePrompt } from "../fixtures/comfyui/validate.ts";

const recorded = fixtureObjectInfo();

/** Every weight file every model needs, per folder: a server that has them all. */
function allWeights(): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const m of COMFY_MODELS) for (const f of m.files) (out[f.folder] ??= []).includes(f.file) || out[f.folder]!.push(f.file);
  return out;
}

const UPLOADS = ["start.png", "face1.png", "face2.png", "face3.png"];
/** A server with every node pack the templates use (the InstantID and PuLID packs too) and every weight. */
const full = withFolders({ ...recorded, ...faceIdObjectInfo() }, allWeights(), UPLOADS);

function requestFor(mode: GenerateRequest["mode"], video: boolean, faceMethod?: GenerateRequest["face_method"]): GenerateRequest {
  return {
    ...(faceMethod ? { face_method: faceMethod } : {}),
    mode,
    prompt: "a lighthouse on a cliff at dusk",
    negative_prompt: "blurry",
    width: video ? 768 : 1024,
    height: video ? 512 : 768,
    seed: 1234,
    ...(mode === "i2v" ? { start_image: "start.png" } : {}),
    ...(mode === "face_ref" ? { reference_images: ["face1.png"] } : {}),
  };
}

function expectValidation(fn: () => unknown, field: string, constraint?: string): FarmError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof FarmError, `expected a FarmError, got ${String(caught)}`);
  assert.equal(caught.code, "VALIDATION_ERROR", caught.message);
  assert.equal(caught.details?.field, field, caught.message);
  if (constraint) assert.equal(caught.details?.constraint, constraint, caught.message);
  return caught;
}

describe("every template validates against the recorded /object_info", () => {
  for (const m of COMFY_MODELS) {
    for (const mode of m.modes) {
      test(`${m.model_id} ${mode}${m.face_method ? ` (${m.face_method})` : ""}`, () => {
        const built = buildWorkflow(m.model_id, requestFor(mode, m.job_type === "video.generate", m.face_method));
        const v = validatePrompt(built.workflow, full, loadImageCheck(UPLOADS));
        assert.ok(v.ok, `rejected: ${JSON.stringify(v, null, 1)}`);
        assert.deepEqual(v.outputs, [built.outputNode]);
        assert.deepEqual(v.node_errors, {});
        // The requirements list exactly the classes the template uses (availability depends on it).
        const used = new Set(Object.values(built.workflow).map((n) => n.class_type));
        for (const cls of used) assert.ok(m.nodes.includes(cls), `${cls} used by the ${mode} template but not in ${m.model_id}'s nodes`);
      });
    }
  }

  test("the validator rejects what the real server rejects, with ComfyUI's shapes", () => {
    const { workflow } = buildWorkflow("sdxl-base-1.0", requestFor("t2i", false));
    const withUnknown: ApiWorkflow = { ...workflow, "3": { ...workflow["3"]!, class_type: "KSamplerDeluxe" } };
    const unknown = validatePrompt(withUnknown, full);
    assert.equal(unknown.ok, false);
    assert.ok(!unknown.ok && unknown.error.type === "invalid_prompt");
    assert.equal(!unknown.ok && unknown.error.message, "Cannot execute because node KSamplerDeluxe does not exist.");
    assert.equal(!unknown.ok && unknown.error.details, "Node ID '#3'");

    const { steps: _dropped, ...inputs } = workflow["3"]!.inputs;
    const missing = validatePrompt({ ...workflow, "3": { ...workflow["3"]!, inputs } }, full);
    assert.ok(!missing.ok);
    assert.equal(missing.error.type, "prompt_outputs_failed_validation");
    assert.deepEqual(missing.node_errors["3"], {
      errors: [{ type: "required_input_missing", message: "Required input is missing", details: "steps", extra_info: { input_name: "steps" } }],
      dependent_outputs: ["9"],
      class_type: "KSampler",
    });

    const badCombo = structuredClone(workflow);
    badCombo["3"]!.inputs.sampler_name = "euler_magic";
    const combo = validatePrompt(badCombo, full);
    assert.ok(!combo.ok);
    const err = combo.node_errors["3"]!.errors[0]!;
    assert.equal(err.type, "value_not_in_list");
    assert.match(err.details, /^sampler_name: 'euler_magic' not in \(list of length \d+\)$/);

    const badLink = structuredClone(workflow);
    badLink["8"]!.inputs.vae = ["4", 0]; // MODEL into a VAE input
    const link = validatePrompt(badLink, full);
    assert.ok(!link.ok);
    assert.equal(link.node_errors["8"]!.errors[0]!.type, "return_type_mismatch");
    assert.equal(link.node_errors["8"]!.errors[0]!.details, "vae, received_type(MODEL) mismatch input_type(VAE)");
  });

  test("workflow-level refusals: no output node, a node without class_type", () => {
    const { workflow } = buildWorkflow("sdxl-base-1.0", requestFor("t2i", false));
    const { "9": _save, ...noSave } = workflow;
    assert.deepEqual(validatePrompt(noSave, full), {
      ok: false,
      error: { type: "prompt_no_outputs", message: "Prompt has no outputs", details: "", extra_info: {} },
      outputs: [],
      node_errors: {},
    });
    const noClass = { ...workflow, "5": { inputs: workflow["5"]!.inputs } } as unknown as ApiWorkflow;
    const v = validatePrompt(noClass, full);
    assert.ok(!v.ok);
    assert.deepEqual(v.error, {
      type: "invalid_prompt",
      message: "Cannot execute because a node is missing the class_type property.",
      details: "Node ID '#5'",
      extra_info: {},
    });
  });

  test("a template naming a weight file the server lacks fails validation on that loader", () => {
    const { workflow } = buildWorkflow("flux.1-dev", requestFor("t2i", false));
    const noVae = withFolders(recorded, { ...allWeights(), vae: [] }, []);
    const v = validatePrompt(workflow, noVae);
    assert.ok(!v.ok);
    assert.deepEqual(Object.keys(v.node_errors), ["10"]);
    assert.equal(v.node_errors["10"]!.class_type, "VAELoader");
    assert.equal(v.node_errors["10"]!.errors[0]!.details, "vae_name: 'ae.safetensors' not in ['pixel_space']");
  });
});

describe("model requirements data", () => {
  test("every entry cites its VRAM figure, licence and source; every template names where it comes from", () => {
    for (const m of COMFY_MODELS) {
      assert.ok(m.vram_mb >= 4096, `${m.model_id}: vram_mb ${m.vram_mb}`);
      for (const k of ["vram_source", "license", "source"] as const) assert.ok(m[k].length > 20, `${m.model_id}: ${k} is empty`);
      assert.deepEqual(Object.keys(m.templates).sort(), [...m.modes].sort(), `${m.model_id}: one template per mode`);
      for (const [mode, file] of Object.entries(m.templates)) {
        const t = loadTemplate(file!);
        assert.equal(t.model_id, m.model_id);
        assert.equal(t.mode, mode);
        if (t.face_method !== undefined) assert.equal(t.face_method, m.face_method, file);
        assert.match(t.source, /ComfyUI_examples|ComfyUI_IPAdapter_plus|ComfyUI/);
      }
    }
  });
});

describe("availableModels", () => {
  test("the recording machine's own files: only SDXL base (and its FaceID variant) are there", () => {
    // The recorded CheckpointLoaderSimple list holds sd_xl_base_1.0.safetensors and no Flux/LTX/Turbo files.
    const { available, missing } = availableModels(recorded);
    assert.deepEqual(available.sort(), ["sdxl-base-1.0", "sdxl-base-1.0:face_ref"]);
    assert.deepEqual(missing["sdxl-turbo"], [
      "sd_xl_turbo_1.0_fp16.safetensors is not in models/checkpoints (CheckpointLoaderSimple.ckpt_name does not offer it)",
    ]);
    assert.ok(missing["flux.1-dev"]!.includes("flux1-dev.safetensors is not in models/diffusion_models (UNETLoader.unet_name does not offer it)"));
  });

  test("all weights present: every model and variant is available", () => {
    const { available, missing } = availableModels(full);
    assert.deepEqual(missing, {});
    assert.deepEqual(available.sort(), [...new Set(COMFY_MODELS.map(variantKey))].sort());
  });

  test("a node pack not installed: the variant is missing with the class named", () => {
    const info: ObjectInfo = structuredClone(full);
    delete info.IPAdapterFaceID;
    delete info.IPAdapterUnifiedLoaderFaceID;
    delete info.LTXVImgToVideo;
    // IP-Adapter gone, InstantID and PuLID there: the face-reference variant stays offered.
    assert.ok(availableModels(info).available.includes("sdxl-base-1.0:face_ref"));
    for (const cls of ["ApplyInstantID", "ApplyPulid"]) delete info[cls];
    const { available, missing } = availableModels(info);
    assert.ok(available.includes("sdxl-base-1.0"));
    // None of the three methods left: every method's reason, named by method.
    assert.deepEqual(missing["sdxl-base-1.0:face_ref"], [
      "ipadapter_faceid: node class IPAdapterUnifiedLoaderFaceID is not installed",
      "ipadapter_faceid: node class IPAdapterFaceID is not installed",
      "instantid: node class ApplyInstantID is not installed",
      "pulid: node class ApplyPulid is not installed",
    ]);
    assert.deepEqual(missing["ltx-video-0.9.7-distilled"], ["node class LTXVImgToVideo is not installed"]);
  });

  test("the face-ID packs' weights: InstantID needs its IP-Adapter and ControlNet, PuLID its adapter, each named with its folder", () => {
    const info = withFolders({ ...recorded, ...faceIdObjectInfo() }, { ...allWeights(), instantid: [], controlnet: [], pulid: [] }, UPLOADS);
    const inst = COMFY_MODELS.find((m) => m.face_method === "instantid")!;
    const pul = COMFY_MODELS.find((m) => m.face_method === "pulid")!;
    assert.deepEqual(availableModels(info, [inst, pul]).missing["sdxl-base-1.0:face_ref"], [
      "instantid: ip-adapter.bin is not in models/instantid (InstantIDModelLoader.instantid_file does not offer it)",
      "instantid: instantid/diffusion_pytorch_model.safetensors is not in models/controlnet (ControlNetLoader.control_net_name does not offer it)",
      "pulid: ip-adapter_pulid_sdxl_fp16.safetensors is not in models/pulid (PulidModelLoader.pulid_file does not offer it)",
    ]);
  });
});

describe("buildWorkflow", () => {
  test("fills the request into the bound inputs; a seed given is kept", () => {
    const b = buildWorkflow("sdxl-base-1.0", { ...requestFor("t2i", false), steps: 30, cfg: 5.5, sampler: "euler" });
    const k = b.workflow["3"]!.inputs;
    assert.deepEqual([k.seed, k.steps, k.cfg, k.sampler_name], [1234, 30, 5.5, "euler"]);
    assert.equal(b.workflow["6"]!.inputs.text, "a lighthouse on a cliff at dusk");
    assert.equal(b.workflow["7"]!.inputs.text, "blurry");
    assert.deepEqual([b.workflow["5"]!.inputs.width, b.workflow["5"]!.inputs.height], [1024, 768]);
    assert.equal(b.seed, 1234);
    // The template itself is untouched for the next request.
    assert.equal(loadTemplate("sdxl-base-1.0.t2i.json").prompt["3"]!.inputs.seed, 0);
  });

  test("no seed: a random uint32 is drawn, used and returned", () => {
    const { seed: _s, ...req } = requestFor("t2i", false);
    const b = buildWorkflow("sdxl-turbo", { ...req, width: 512, height: 512 }, () => 3_999_999_999);
    assert.equal(b.seed, 3_999_999_999);
    assert.equal(b.workflow["13"]!.inputs.noise_seed, 3_999_999_999);
    const r = buildWorkflow("sdxl-turbo", { ...req, width: 512, height: 512 });
    assert.ok(Number.isInteger(r.seed) && r.seed >= 0 && r.seed <= 2 ** 32 - 1);
  });

  test("flux.1-dev: guidance_scale is the distilled FluxGuidance, width/height reach ModelSamplingFlux", () => {
    const b = buildWorkflow("flux.1-dev", { ...requestFor("t2i", false), guidance_scale: 4.5 });
    assert.equal(b.workflow["26"]!.inputs.guidance, 4.5);
    assert.deepEqual([b.workflow["30"]!.inputs.width, b.workflow["30"]!.inputs.height], [1024, 768]);
    assert.deepEqual(b.ignored, ["negative_prompt"]);
    expectValidation(() => buildWorkflow("flux.1-dev", { ...requestFor("t2i", false), cfg: 3 }), "cfg", "unsupported");
  });

  test("distilled models refuse knobs they do not take, and ignore the negative prompt", () => {
    const b = buildWorkflow("flux.1-schnell", requestFor("t2i", false));
    assert.deepEqual(b.ignored, ["negative_prompt"]);
    assert.equal(b.workflow["31"]!.inputs.steps, 4);
    assert.equal(b.workflow["31"]!.inputs.cfg, 1);
    expectValidation(() => buildWorkflow("flux.1-schnell", { ...requestFor("t2i", false), guidance_scale: 3.5 }), "guidance_scale", "unsupported");
    expectValidation(() => buildWorkflow("flux.1-schnell", { ...requestFor("t2i", false), steps: 20 }), "steps", "range");
    expectValidation(() => buildWorkflow("sdxl-turbo", { ...requestFor("t2i", false), width: 512, height: 512, steps: 8 }), "steps", "range");
  });

  test("sizes: multiples of 8 for images, 32 for LTX; ranges per model", () => {
    expectValidation(() => buildWorkflow("sdxl-base-1.0", { ...requestFor("t2i", false), width: 1020 }), "width", "multiple_of");
    expectValidation(() => buildWorkflow("sdxl-base-1.0", { ...requestFor("t2i", false), height: 4096 }), "height", "range");
    expectValidation(() => buildWorkflow("ltx-video-0.9.7-distilled", { ...requestFor("t2v", true), width: 760 }), "width", "multiple_of");
    assert.ok(buildWorkflow("sdxl-base-1.0", { ...requestFor("t2i", false), width: 1920, height: 1080 }));
  });

  test("LTX: num_frames 8n+1 and fps go to the latent, the conditioning and the video", () => {
    const b = buildWorkflow("ltx-video-0.9.7-distilled", { ...requestFor("t2v", true), num_frames: 121, fps: 25, steps: 8, guidance_scale: 3 });
    assert.equal(b.workflow["70"]!.inputs.length, 121);
    assert.equal(b.workflow["69"]!.inputs.frame_rate, 25);
    assert.equal(b.workflow["40"]!.inputs.fps, 25);
    assert.equal(b.workflow["72"]!.inputs.cfg, 3);
    assert.deepEqual(b.used, { steps: 8, cfg: 3, guidance: undefined, sampler: "euler", num_frames: 121, fps: 25, width: 768, height: 512 });
    expectValidation(() => buildWorkflow("ltx-video-0.9.7-distilled", { ...requestFor("t2v", true), num_frames: 120 }), "num_frames", "8n+1");
    expectValidation(() => buildWorkflow("ltx-video-0.9.7-distilled", { ...requestFor("t2v", true), num_frames: 1001 }), "num_frames", "range");
    expectValidation(() => buildWorkflow("sdxl-base-1.0", { ...requestFor("t2i", false), num_frames: 9 }), "num_frames", "unsupported");
  });

  test("i2v needs an uploaded start image; face_ref batches several references", () => {
    expectValidation(() => buildWorkflow("ltx-video-0.9.7-distilled", { ...requestFor("t2v", true), mode: "i2v" }), "start_image", "required");
    expectValidation(() => buildWorkflow("ltx-video-0.9.7-distilled", { ...requestFor("i2v", true), start_image: "../etc/passwd" }), "start_image");
    const i2v = buildWorkflow("ltx-video-0.9.7-distilled", requestFor("i2v", true));
    assert.equal(i2v.workflow["78"]!.inputs.image, "start.png");

    const face = buildWorkflow("sdxl-base-1.0", { ...requestFor("face_ref", false), reference_images: ["face1.png", "face2.png", "face3.png"] });
    assert.deepEqual(face.workflow["11"]!.inputs.image, ["refbatch_2", 0]);
    assert.deepEqual(face.workflow.refbatch_2!.inputs, { image1: ["refbatch_1", 0], image2: ["ref_2", 0] });
    const v = validatePrompt(face.workflow, full, loadImageCheck(UPLOADS));
    assert.ok(v.ok, JSON.stringify(v));
    expectValidation(() => buildWorkflow("sdxl-base-1.0", { ...requestFor("face_ref", false), reference_images: [] }), "reference_images", "required");
    expectValidation(() => buildWorkflow("sdxl-base-1.0", { ...requestFor("t2i", false), reference_images: ["face1.png"] }), "reference_images", "unsupported");
  });

  test("unknown model, unsupported mode, bad sampler, empty prompt", () => {
    expectValidation(() => buildWorkflow("sd-1.5", requestFor("t2i", false)), "model", "enum");
    expectValidation(() => buildWorkflow("flux.1-schnell", requestFor("t2v", false)), "mode", "unsupported");
    const noFace = expectValidation(() => buildWorkflow("flux.1-schnell", requestFor("face_ref", false)), "reference_images", "unsupported");
    assert.match(noFace.message, /face_ref is offered by: sdxl-base-1\.0/);
    expectValidation(() => buildWorkflow("sdxl-turbo", requestFor("i2v", false)), "start_image", "unsupported");
    const e = expectValidation(() => buildWorkflow("sdxl-base-1.0", { ...requestFor("t2i", false), sampler: "euler_magic" }), "sampler", "enum");
    assert.match(e.message, /dpmpp_2m/);
    expectValidation(() => buildWorkflow("sdxl-base-1.0", { ...requestFor("t2i", false), prompt: "  " }), "prompt", "required");
    expectValidation(() => buildWorkflow("sdxl-base-1.0", { ...requestFor("t2i", false), seed: -1 }), "seed", "range");
  });
});

describe("a platform's size (fit_size)", () => {
  const latentSize = (wf: ApiWorkflow) => {
    const n = Object.values(wf).find((x) => x.class_type === "EmptyLatentImage" || x.class_type === "EmptySD3LatentImage");
    return [n?.inputs.width, n?.inputs.height];
  };
  test("fits the preset into the model's range with the aspect ratio kept, on its grid", () => {
    const req = { mode: "t2i", prompt: "p", seed: 1, fit_size: true } as const;
    // 4K YouTube 3840x2160 on SDXL (longest side 2048): 2048x1152.
    assert.deepEqual(latentSize(buildWorkflow("sdxl-base-1.0", { ...req, width: 3840, height: 2160 }).workflow), [2048, 1152]);
    // Within range: unchanged.
    assert.deepEqual(latentSize(buildWorkflow("sdxl-base-1.0", { ...req, width: 1080, height: 1352 }).workflow), [1080, 1352]);
    // SDXL-Turbo tops out at 1024: a 9:16 reel becomes 576x1024.
    assert.deepEqual(latentSize(buildWorkflow("sdxl-turbo", { ...req, width: 1080, height: 1920 }).workflow), [576, 1024]);
  });
  test("a typed size is never scaled: out of range it is refused naming the field", () => {
    assert.throws(
      () => buildWorkflow("sdxl-turbo", { mode: "t2i", prompt: "p", width: 1920, height: 1080 }),
      (e: unknown) => e instanceof FarmError && (e.details as { field?: string }).field === "width",
    );
  });
});
