/**
 * /generate/image and /video/generate end to end on an embedded farm whose agent is attached
 * to a ComfyUI stand-in (test/fixtures/comfyui/standin.ts, written from ComfyUI's server.py:
 * same routes, websocket sequence and error shapes, real PNG/video outputs). The agent has no
 * nvidia-smi here: its GPU comes from the stand-in's /system_stats.
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { ComfyStandin } from "../fixtures/comfyui/standin.ts";
import { startEmbeddedFarm, type TestFarm } from "../helpers/embedded-farm.ts";
import { http, waitJob, waitStatus } from "../helpers/http.ts";

const WEIGHTS = {
  checkpoints: ["sd_xl_base_1.0.safetensors", "sd_xl_turbo_1.0_fp16.safetensors", "ltxv-13b-0.9.7-distilled-fp8.safetensors"],
  text_encoders: ["t5xxl_fp16.safetensors"],
};

/** The spec's error envelope. */
interface Envelope {
  error: true;
  code: string;
  message: string;
  details?: { field?: string; constraint?: string };
}

let standin: ComfyStandin;
let farm: TestFarm;

/** Wait until the farm's node advertises `model` for `type`. */
async function offered(type: string, model: string, timeoutMs = 15_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    const nodes = (await http<{ nodes: { report?: { models?: Record<string, string[]> } }[] }>(farm.url, "GET", "/api/v1/farm/nodes")).body.nodes;
    last = nodes;
    const hit = nodes.find((n) => n.report?.models?.[type]?.includes(model));
    if (hit) return hit as Record<string, unknown>;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${model} never offered for ${type}: ${JSON.stringify(last)}`);
}

async function fetchBytes(p: string): Promise<Buffer> {
  const res = await fetch(farm.url + p);
  assert.equal(res.status, 200, `GET ${p}`);
  return Buffer.from(await res.arrayBuffer());
}

beforeAll(async () => {
  standin = await new ComfyStandin({ models: WEIGHTS, stepMs: 2, vramMb: 24564 }).start();
  farm = await startEmbeddedFarm({
    agent: { plugins: ["comfyui"], gpu_probe: "none" },
    plugins: { comfyui: { instances: [{ url: standin.url, gpu_index: 0 }], health_interval_ms: 100, discovery_interval_ms: 500 } },
    coordinator: { max_attempts: 2 },
  });
  await offered("image.generate", "sdxl-base-1.0");
});

afterAll(async () => {
  await farm?.destroy();
  await standin?.stop();
});

test("POST /generate/image answers the spec's shape with a real PNG of the requested size at image_url", async () => {
  const r = await http(farm.url, "POST", "/api/v1/generate/image", {
    prompt: "a lighthouse at dusk",
    negative_prompt: "blurry",
    width: 768,
    height: 512,
    seed: 12345,
    return_base64: true,
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const b = r.body as { job_id: string; status: string; image_url: string; image_base64: string; metadata: Record<string, unknown> };
  assert.equal(b.status, "completed");
  assert.match(b.image_url, /^\/outputs\/images\/.+\.png$/);
  assert.deepEqual(Object.keys(b.metadata).sort(), ["generation_time", "model", "resolution", "seed"]);
  assert.equal(b.metadata.model, "sdxl-base-1.0");
  assert.equal(b.metadata.resolution, "768x512");
  assert.equal(b.metadata.seed, 12345);
  assert.ok(typeof b.metadata.generation_time === "number" && b.metadata.generation_time >= 0);
  const png = await fetchBytes(b.image_url);
  const meta = await sharp(png).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height], ["png", 768, 512]);
  assert.ok(Buffer.from(b.image_base64, "base64").equals(png), "image_base64 is the stored PNG");
  // The workflow ComfyUI ran carries the request: prompt, negative prompt, seed, size.
  const wf = JSON.stringify(standin.prompts.at(-1));
  for (const s of ["a lighthouse at dusk", "blurry", "12345", "768", "512"]) assert.ok(wf.includes(s), `workflow has ${s}`);
});

test("without a seed one is drawn and reported; without return_base64 no image_base64; sdxl-turbo is chosen by model", async () => {
  const r = await http(farm.url, "POST", "/api/v1/generate/image", { prompt: "a red bicycle", model: "sdxl-turbo", width: 512, height: 512 });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const b = r.body as { image_url: string; image_base64?: string; metadata: { seed: number; model: string; resolution: string } };
  assert.equal(b.image_base64, undefined);
  assert.equal(b.metadata.model, "sdxl-turbo");
  assert.equal(b.metadata.resolution, "512x512");
  assert.ok(Number.isInteger(b.metadata.seed) && b.metadata.seed >= 0 && b.metadata.seed <= 4294967295);
  assert.ok(JSON.stringify(standin.prompts.at(-1)).includes(String(b.metadata.seed)), "the reported seed is the one ComfyUI ran");
});

test("a style preset reaches the prompt; a bad value answers 400 naming the field", async () => {
  const ok = await http(farm.url, "POST", "/api/v1/generate/image", { prompt: "a harbour", style_preset: "Cinematic", width: 512, height: 512, seed: 1 });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.ok(JSON.stringify(standin.prompts.at(-1)).includes("cinematic film still"));
  const badStyle = await http<Envelope>(farm.url, "POST", "/api/v1/generate/image", { prompt: "x", style_preset: "Nope" });
  assert.equal(badStyle.status, 400);
  assert.equal(badStyle.body.code, "VALIDATION_ERROR");
  assert.equal(badStyle.body.details?.field, "style_preset");
  const badSteps = await http<Envelope>(farm.url, "POST", "/api/v1/generate/image", { prompt: "x", model: "sdxl-turbo", width: 512, height: 512, steps: 30 });
  assert.equal(badSteps.status, 400);
  assert.equal(badSteps.body.details?.field, "steps");
});

test("platform picks the size: the preset's on a model that allows it, scaled into a smaller model's range, a typed side wins; an unknown one is a 400 naming the field", async () => {
  const post = (body: Record<string, unknown>) =>
    http<Envelope & { metadata: { resolution: string } }>(farm.url, "POST", "/api/v1/generate/image", { prompt: "a harbour at dawn", seed: 3, ...body });
  const yt = await post({ model: "sdxl-base-1.0", platform: "YouTube (16:9)" });
  assert.equal(yt.status, 200, JSON.stringify(yt.body));
  assert.equal(yt.body.metadata.resolution, "1920x1080");
  const empty = Object.values(standin.prompts.at(-1)!).find((n) => n.class_type === "EmptyLatentImage");
  assert.deepEqual([empty?.inputs.width, empty?.inputs.height], [1920, 1080], "ComfyUI was asked for the preset's size");
  // Cinematic 1920x804 -> 1920x808 on the API's 8-px grid; SDXL-Turbo's longest side is 1024: 1024x432 (2.37:1).
  const cine = await post({ model: "sdxl-turbo", platform: "cinematic (2.39:1)" });
  assert.equal(cine.status, 200, JSON.stringify(cine.body));
  assert.equal(cine.body.metadata.resolution, "1024x432");
  // One typed side stays as typed (no scaling); the other follows the platform's aspect ratio.
  const typed = await post({ model: "sdxl-turbo", platform: "YouTube (16:9)", width: 512 });
  assert.equal(typed.status, 200, JSON.stringify(typed.body));
  assert.equal(typed.body.metadata.resolution, "512x288");
  const unknown = await post({ platform: "MySpace (4:3)" });
  assert.equal(unknown.status, 400);
  assert.equal(unknown.body.code, "VALIDATION_ERROR");
  assert.equal(unknown.body.details?.field, "platform");
  assert.match(unknown.body.message, /unknown platform 'MySpace \(4:3\)'; one of: YouTube \(16:9\), /);
  const batch = await http<Envelope>(farm.url, "POST", "/api/v1/generate/batch", { prompts: ["a"], shared_settings: { platform: "Betamax" } });
  assert.equal(batch.status, 400);
  assert.equal(batch.body.details?.field, "shared_settings.platform");
});

test("POST /video/generate: an MP4 with the requested frames, fps and size; metadata read from the file", async () => {
  await offered("video.generate", "ltx-video-0.9.7-distilled");
  const r = await http(farm.url, "POST", "/api/v1/video/generate", { prompt: "waves on a beach", num_frames: 17, fps: 12, width: 256, height: 192, seed: 7 });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const b = r.body as { status: string; video_url: string; metadata: Record<string, unknown> };
  assert.equal(b.status, "completed");
  assert.match(b.video_url, /^\/outputs\/videos\/.+\.mp4$/);
  assert.equal(b.metadata.model, "ltx-video-0.9.7-distilled");
  assert.equal(b.metadata.frame_count, 17);
  assert.equal(b.metadata.fps, 12);
  assert.equal(b.metadata.resolution, "256x192");
  assert.ok(Math.abs(Number(b.metadata.duration) - 17 / 12) < 0.02, `duration ${b.metadata.duration}`);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "nb-comfy-vid-")), "v.mp4");
  fs.writeFileSync(file, await fetchBytes(b.video_url));
  const probe = JSON.parse(
    execFileSync(
      "ffprobe",
      [
        "-v",
        "error",
        "-count_frames",
        "-select_streams",
        "v:0",
        "-show_entries",
        "stream=codec_name,width,height,nb_read_frames,avg_frame_rate",
        "-of",
        "json",
        file,
      ],
      { encoding: "utf8" },
    ),
  ) as { streams: Record<string, unknown>[] };
  assert.deepEqual(probe.streams[0], { codec_name: "h264", width: 256, height: 192, nb_read_frames: "17", avg_frame_rate: "12/1" });
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
});

test("image-to-video: the start image is uploaded through /upload/image and LTX's i2v workflow runs", async () => {
  const still = await sharp({ create: { width: 256, height: 192, channels: 3, background: { r: 200, g: 80, b: 40 } } })
    .png()
    .toBuffer();
  const r = await http(farm.url, "POST", "/api/v1/video/generate", {
    prompt: "the scene comes alive",
    image: still.toString("base64"),
    num_frames: 9,
    fps: 8,
    width: 256,
    height: 192,
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const b = r.body as { metadata: Record<string, unknown> };
  assert.equal(b.metadata.frame_count, 9);
  const wf = standin.prompts.at(-1)!;
  const load = Object.values(wf).find((n) => n.class_type === "LoadImage");
  assert.ok(load, "the i2v workflow loads the start image");
  assert.match(String(load.inputs.image), /^nb-farm\/.+\/image_0\.png$/);
});

test("/video/animate with an image-to-video model a ComfyUI node offers: the still starts LTX's i2v workflow at its own aspect ratio; the default stays kenburns", async () => {
  await offered("video.animate", "ltx-video-0.9.7-distilled");
  const still = (
    await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 30, g: 90, b: 160 } } })
      .png()
      .toBuffer()
  ).toString("base64");
  const animate = (body: Record<string, unknown>) =>
    http<Envelope & { video_url: string; metadata: Record<string, unknown> }>(farm.url, "POST", "/api/v1/video/animate", { image: still, ...body });
  const ltx = "ltx-video-0.9.7-distilled";
  const r = await animate({ model: ltx, prompt: "the sea starts to move", num_frames: 9, fps: 8, seed: 5, motion_strength: 0.5 });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.match(r.body.video_url, /^\/outputs\/videos\/.+\.mp4$/);
  // 640x480 (4:3) at LTX's usual long side 768 -> 768x576, on its 32-px grid.
  assert.deepEqual({ ...r.body.metadata, duration: undefined }, { model: ltx, duration: undefined, frame_count: 9, resolution: "768x576", fps: 8, seed: 5 });
  const wf = standin.prompts.at(-1)!;
  const i2v = Object.values(wf).find((n) => n.class_type === "LTXVImgToVideo");
  assert.deepEqual([i2v?.inputs.width, i2v?.inputs.height, i2v?.inputs.length], [768, 576, 9]);
  assert.match(String(Object.values(wf).find((n) => n.class_type === "LoadImage")?.inputs.image), /^nb-farm\/.+\/image_0\.png$/);
  assert.equal(Object.values(wf).find((n) => n.class_type === "CLIPTextEncode" && n.inputs.text === "the sea starts to move")?.class_type, "CLIPTextEncode");
  // One typed side stays; the other follows the still: 512 wide -> 384 high.
  const w = await animate({ model: ltx, prompt: "waves", num_frames: 9, fps: 8, width: 512 });
  assert.equal(w.status, 200, JSON.stringify(w.body));
  assert.equal(w.body.metadata.resolution, "512x384");
  // The model's own limits answer 400 naming the field; an i2v model needs a prompt.
  const frames = await animate({ model: ltx, prompt: "waves", num_frames: 20 });
  assert.equal(frames.status, 400);
  assert.equal(frames.body.details?.field, "num_frames");
  const noPrompt = await animate({ model: ltx });
  assert.equal(noPrompt.status, 400);
  assert.equal(noPrompt.body.details?.field, "prompt");
  // Without a model it is Ken Burns, which this GPU-only farm does not run: 503, not LTX.
  const dflt = await animate({ prompt: "waves", num_frames: 9 });
  assert.equal(dflt.status, 503, JSON.stringify(dflt.body));
  assert.match(dflt.body.message, /kenburns/);
});

test("reference_images: checked for the face-reference pieces first (MODEL_ERROR naming them), then uploaded through /upload/image into the IP-Adapter workflow", async () => {
  const face = await sharp({ create: { width: 96, height: 96, channels: 3, background: { r: 220, g: 180, b: 150 } } })
    .png()
    .toBuffer();
  const body = { prompt: "a portrait", reference_images: [face.toString("base64")], width: 512, height: 512, seed: 11 };
  const missing = await http<Envelope>(farm.url, "POST", "/api/v1/generate/image", body);
  assert.equal(missing.status, 500, JSON.stringify(missing.body));
  assert.equal(missing.body.code, "MODEL_ERROR");
  assert.equal(missing.body.details?.field, "reference_images");
  assert.match(missing.body.message, /ip-adapter-faceid-plusv2_sdxl\.bin is not in models\/ipadapter/);
  // The node does not advertise the face-reference variant, and says why.
  const report = (
    await http<{ nodes: { report: { unavailable_models?: { model_id: string; missing: string[] }[] } }[] }>(farm.url, "GET", "/api/v1/farm/nodes")
  ).body.nodes[0]!.report;
  const why = report.unavailable_models?.find((u) => u.model_id === "sdxl-base-1.0:face_ref");
  assert.match(String(why?.missing.join(" ")), /ip-adapter-faceid-plusv2_sdxl\.bin is not in models\/ipadapter/);
  const saved = standin.models;
  standin.models = {
    ...saved,
    ipadapter: ["ip-adapter-faceid-plusv2_sdxl.bin"],
    loras: ["ip-adapter-faceid-plusv2_sdxl_lora.safetensors"],
    clip_vision: ["CLIP-ViT-H-14-laion2B-s32B-b79K.safetensors"],
  };
  try {
    // Once the files are there, discovery (discovery_interval_ms) advertises the variant
    // character_id requests look for.
    await offered("image.generate", "sdxl-base-1.0:face_ref");
    const variant = await http(farm.url, "POST", "/api/v1/generate/image", { ...body, model: "sdxl-base-1.0:face_ref" });
    assert.equal(variant.status, 200, JSON.stringify(variant.body));
    const ok = await http(farm.url, "POST", "/api/v1/generate/image", body);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const wf = standin.prompts.at(-1)!;
    assert.ok(
      Object.values(wf).some((n) => n.class_type === "IPAdapterFaceID"),
      "the face-reference workflow ran",
    );
    const load = Object.values(wf).find((n) => n.class_type === "LoadImage");
    assert.match(String(load?.inputs.image), /^nb-farm\/.+\/reference_images_0\.png$/);
  } finally {
    standin.models = saved;
  }
});

test("a model whose weights are on no node answers 503 CAPABILITY_UNAVAILABLE; the node reports why", async () => {
  const r = await http<Envelope>(farm.url, "POST", "/api/v1/generate/image", { prompt: "x", model: "flux.1-schnell" });
  assert.equal(r.status, 503, JSON.stringify(r.body));
  assert.equal(r.body.code, "CAPABILITY_UNAVAILABLE");
  assert.match(r.body.message, /flux\.1-schnell/);
  const node = (await http<{ nodes: { report: { unavailable_models?: { model_id: string; missing: string[] }[] } }[] }>(farm.url, "GET", "/api/v1/farm/nodes"))
    .body.nodes[0]!;
  const why = node.report.unavailable_models?.find((u) => u.model_id === "flux.1-schnell");
  assert.ok(why, JSON.stringify(node.report.unavailable_models));
  assert.match(why.missing.join(" "), /ComfyUI on GPU 0 \(http:\/\/127\.0\.0\.1:\d+\): flux1-schnell-fp8\.safetensors is not in models\/checkpoints/);
});

test("the node's GPU and its VRAM come from ComfyUI's /system_stats", async () => {
  const node = (
    await http<{ nodes: { report: { gpus: { index: number; name: string; memory_total_mb: number; simulated: boolean }[] } }[] }>(
      farm.url,
      "GET",
      "/api/v1/farm/nodes",
    )
  ).body.nodes[0]!;
  assert.equal(node.report.gpus.length, 1);
  const g = node.report.gpus[0]!;
  assert.equal(g.index, 0);
  assert.equal(g.memory_total_mb, 24564);
  assert.equal(g.simulated, false);
});

test("an out-of-memory execution_error answers GPU_ERROR naming the node, after the farm's retries", async () => {
  standin.fault = { kind: "oom", atStep: 2 };
  try {
    const r = await http<Envelope>(farm.url, "POST", "/api/v1/generate/image", { prompt: "huge", width: 1024, height: 1024, seed: 3 });
    assert.equal(r.status, 500, JSON.stringify(r.body));
    assert.equal(r.body.code, "GPU_ERROR");
    assert.match(r.body.message, /out of memory in node \d+ \(KSampler\)/);
  } finally {
    standin.fault = undefined;
    // Failed attempts count toward the node's blocklist for image.generate (farm policy):
    // lift it as an operator would (farmctl unblock) so the next test starts clean.
    const nodes = (await http<{ nodes: { node_id: string }[] }>(farm.url, "GET", "/api/v1/farm/nodes")).body.nodes;
    for (const n of nodes) await http(farm.url, "POST", `/api/v1/farm/nodes/${n.node_id}/unblock`);
  }
});

test("cancel reaches ComfyUI's /interrupt for the running prompt", async () => {
  standin.stepMs = 200;
  try {
    const r = await http<{ job_id: string }>(farm.url, "POST", "/api/v1/generate/image?async=true", { prompt: "slow", seed: 9 });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const id = r.body.job_id;
    await waitStatus(farm.url, id, "running");
    // Wait until sampling has begun (progress "step n/m") so the prompt is ComfyUI's running one.
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const v = (await http(farm.url, "GET", `/api/v1/jobs/${id}`)).body as { progress_message?: string; message?: string };
      if (/step \d+\/\d+/.test(JSON.stringify(v))) break;
      await new Promise((res) => setTimeout(res, 20));
    }
    const before = standin.interruptCalls.length;
    const c = await http(farm.url, "POST", `/api/v1/jobs/${id}/cancel`);
    assert.equal(c.status, 200, JSON.stringify(c.body));
    const done = await waitJob(farm.url, id, 15_000);
    assert.equal(done.status, "cancelled");
    const deadline2 = Date.now() + 5000;
    while (standin.interruptCalls.length === before && Date.now() < deadline2) await new Promise((res) => setTimeout(res, 20));
    assert.equal(standin.interruptCalls.length, before + 1, "one /interrupt");
    assert.ok(standin.interruptCalls.at(-1)!.prompt_id, "the interrupt names the prompt");
  } finally {
    standin.stepMs = 2;
  }
});
