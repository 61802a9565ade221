/**
 * The InsightFace path (letterbox -> SCRFD decode -> NMS -> Umeyama alignment -> ArcFace
 * normalisation -> L2) on stand-in ONNX models with the real models' signatures, built here
 * with onnx-proto. The detector's outputs are constants we choose, so the decoded boxes and
 * landmarks are known; the "recogniser" returns the first 512 values of its normalised
 * input, so the embedding exposes exactly what the alignment produced.
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import onnxProto, { type onnx as OnnxTypes } from "onnx-proto";
// onnx-proto is CommonJS: the namespace comes off the default export at runtime.
const { onnx } = onnxProto;
import sharp from "sharp";
import plugin from "../../plugins/face/index.ts";
import { InsightFaceBackend } from "../../plugins/face/insightface/backend.ts";
import { ARCFACE_TEMPLATE } from "../../plugins/face/insightface/align.ts";
import { FarmError } from "../../core/errors.ts";
import { makeTaskContext, type TestTaskContext } from "../helpers/task-context.ts";

const F = onnx.TensorProto.DataType.FLOAT;
const I64 = onnx.TensorProto.DataType.INT64;
const vi = (name: string, dims: number[]) =>
  onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: F, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });
const floatT = (name: string, dims: number[], v: Float32Array | number[]) => onnx.TensorProto.create({ name, dataType: F, dims, floatData: Array.from(v) });
const int64T = (name: string, v: number[]) => onnx.TensorProto.create({ name, dataType: I64, dims: [v.length], int64Data: v });

function save(file: string, graph: OnnxTypes.IGraphProto): void {
  const model = onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: "", version: 17 }], producerName: "face-test", graph });
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, onnx.ModelProto.encode(model).finish());
}

/** Detector: 9 constant outputs (+ 0 * mean(input), so the input is really consumed). */
function buildDetector(file: string, outputs: { name: string; dims: number[]; values: Float32Array }[]): void {
  const nodes: OnnxTypes.INodeProto[] = [
    { opType: "ReduceMean", input: ["input.1"], output: ["m"], attribute: [{ name: "keepdims", type: onnx.AttributeProto.AttributeType.INT, i: 0 }] },
    { opType: "Mul", input: ["m", "zero"], output: ["z"] },
  ];
  const init = [floatT("zero", [], [0])];
  for (const o of outputs) {
    init.push(floatT(`c_${o.name}`, o.dims, o.values));
    nodes.push({ opType: "Add", input: [`c_${o.name}`, "z"], output: [o.name] });
  }
  save(file, {
    name: "scrfd-standin",
    node: nodes,
    initializer: init,
    input: [vi("input.1", [1, 3, 640, 640])],
    output: outputs.map((o) => vi(o.name, o.dims)),
  });
}

/** Recogniser: [1,3,112,112] -> first 512 values, [1,512]. */
function buildRecognizer(file: string): void {
  save(file, {
    name: "arcface-standin",
    node: [
      { opType: "Reshape", input: ["input.1", "shape"], output: ["flat"] },
      { opType: "Slice", input: ["flat", "starts", "ends", "axes"], output: ["683"] },
    ],
    initializer: [int64T("shape", [1, 3 * 112 * 112]), int64T("starts", [0]), int64T("ends", [512]), int64T("axes", [1])],
    input: [vi("input.1", [1, 3, 112, 112])],
    output: [vi("683", [1, 512])],
  });
}

// The planted faces, in the 640x640 letterbox space. Source image 1280x960 -> scale 0.5.
const SRC_W = 1280,
  SRC_H = 960,
  SCALE = 0.5;
const CENTRE: [number, number] = [320, 160]; // stride 16, cell (20, 10)
const IDX16 = (10 * 40 + 20) * 2; // anchor 0 of that cell
// Landmarks in source pixels = 4 x ArcFace template + (300, 100): alignment must undo exactly that.
const SRC_KPS = ARCFACE_TEMPLATE.map(([x, y]) => [4 * x + 300, 4 * y + 100] as [number, number]);

let dir: string;
let ctx: TestTaskContext;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "nb-insight-"));
  const n = [12800, 3200, 800];
  const scores = n.map((k) => new Float32Array(k));
  const boxes = n.map((k) => new Float32Array(k * 4));
  const kps = n.map((k) => new Float32Array(k * 10));
  // Face A: stride 16, score 0.9, distances (4,5,6,7) strides -> box [256,80,416,272] in 640 space.
  scores[1]![IDX16] = 0.9;
  boxes[1]!.set([4, 5, 6, 7], IDX16 * 4);
  kps[1]!.set(
    SRC_KPS.flatMap(([x, y]) => [(x * SCALE - CENTRE[0]) / 16, (y * SCALE - CENTRE[1]) / 16]),
    IDX16 * 10,
  );
  // A weaker duplicate of A on the cell's second anchor: NMS must drop it.
  scores[1]![IDX16 + 1] = 0.8;
  boxes[1]!.set([4, 5, 5.5, 7], (IDX16 + 1) * 4);
  // Below the score threshold: ignored.
  scores[0]![100] = 0.3;
  boxes[0]!.set([1, 1, 1, 1], 400);
  // Face B: stride 32, cell (2, 15), anchor 1, centre (64, 480), distances 1 -> [32,448,96,512].
  const idx32 = (15 * 20 + 2) * 2 + 1;
  scores[2]![idx32] = 0.7;
  boxes[2]!.set([1, 1, 1, 1], idx32 * 4);
  buildDetector(path.join(dir, "insightface/buffalo_l/det_10g.onnx"), [
    ...n.map((k, i) => ({ name: `score_${[8, 16, 32][i]}`, dims: [k, 1], values: scores[i]! })),
    ...n.map((k, i) => ({ name: `bbox_${[8, 16, 32][i]}`, dims: [k, 4], values: boxes[i]! })),
    ...n.map((k, i) => ({ name: `kps_${[8, 16, 32][i]}`, dims: [k, 10], values: kps[i]! })),
  ]);
  buildRecognizer(path.join(dir, "insightface/buffalo_l/w600k_r50.onnx"));
  ctx = makeTaskContext({ modelsDir: dir });
  // Red channel linear in (x, y): bilinear sampling reproduces it exactly, so the aligned
  // crop's values are known in closed form. Green/blue constant.
  const px = Buffer.alloc(SRC_W * SRC_H * 3);
  for (let y = 0; y < SRC_H; y++)
    for (let x = 0; x < SRC_W; x++) {
      const i = (y * SRC_W + x) * 3;
      px[i] = Math.round(0.1 * x + 0.2 * y + 10);
      px[i + 1] = 50;
      px[i + 2] = 200;
    }
  await ctx.artifacts.put(
    "in/ramp.png",
    await sharp(px, { raw: { width: SRC_W, height: SRC_H, channels: 3 } })
      .png()
      .toBuffer(),
  );
});
afterAll(() => {
  ctx.cleanup();
  fs.rmSync(dir, { recursive: true, force: true });
});

const run = (type: string, params: Record<string, unknown>) => plugin.run({ job_id: "j", type, params, attempt: 1 }, ctx);
const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

test("face.detect (insightface): anchors decoded, scaled back through the letterbox, NMS applied", async () => {
  const r = await run("face.detect", { image: "in/ramp.png", model: "insightface" });
  assert.equal(r.model, "insightface");
  assert.deepEqual(r.image_size, [SRC_W, SRC_H]);
  assert.equal(r.face_count, 2);
  const [a, b] = r.faces as { bbox: number[]; confidence: number; landmarks: Record<string, [number, number]> }[];
  assert.deepEqual(a!.bbox, [512, 160, 832, 544]);
  close(a!.confidence, 0.9, 1e-6, "score");
  const names = ["left_eye", "right_eye", "nose", "mouth_left", "mouth_right"];
  names.forEach((k, i) => {
    close(a!.landmarks[k]![0], SRC_KPS[i]![0], 0.01, `${k}.x`);
    close(a!.landmarks[k]![1], SRC_KPS[i]![1], 0.01, `${k}.y`);
  });
  // Face B: [64, 896, 192, 1024] clamped to the image height.
  assert.deepEqual(b!.bbox, [64, 896, 192, SRC_H]);
});

test("face.embed (insightface): similarity alignment to the 112x112 template, (x-127.5)/127.5, L2", async () => {
  const r = await run("face.embed", { image: "in/ramp.png", model: "insightface" });
  assert.equal(r.model, "insightface");
  assert.equal(r.embedding_dim, 512);
  assert.deepEqual(r.bbox, [512, 160, 832, 544]); // the largest face
  const emb = r.embedding as number[];
  // The transform maps source (4x+300, 4y+100) to (x, y): the crop's red at (x, y) is
  // 0.1(4x+300) + 0.2(4y+100) + 10; the stand-in returns the first 512 red values.
  const expected: number[] = [];
  for (let i = 0; i < 512; i++) {
    const x = i % 112,
      y = Math.floor(i / 112);
    expected.push((Math.round(0.1 * (4 * x + 300) + 0.2 * (4 * y + 100) + 10) - 127.5) / 127.5);
  }
  const norm = Math.hypot(...expected);
  let norm2 = 0;
  emb.forEach((v, i) => {
    norm2 += v * v;
    close(v, expected[i]! / norm, 2.5e-3, `emb[${i}]`);
  });
  close(norm2, 1, 1e-5, "unit length");
});

test("InsightFace weights missing -> MODEL_ERROR naming the expected files", async () => {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), "nb-noweights-"));
  try {
    await assert.rejects(
      InsightFaceBackend.create({ modelsDir: empty }),
      (e: FarmError) =>
        e.code === "MODEL_ERROR" && e.message.includes("insightface/buffalo_l/det_10g.onnx") && e.message.includes("insightface/buffalo_l/w600k_r50.onnx"),
    );
  } finally {
    fs.rmSync(empty, { recursive: true, force: true });
  }
});

test("a GPU node asks for CUDA; the CPU-only onnxruntime build falls back to CPU and still embeds", async () => {
  const backend = await InsightFaceBackend.create({ modelsDir: dir, cuda: true });
  try {
    assert.equal(backend.embeddingDim, 512);
    const faces = await backend.detect({ width: SRC_W, height: SRC_H, data: new Uint8Array(SRC_W * SRC_H * 3) });
    assert.equal(faces.length, 2); // the stand-in detector ignores pixels
  } finally {
    await backend.dispose();
  }
});

test("corrupt weight files -> MODEL_ERROR, and face.embed_references runs on insightface", async () => {
  const broken = fs.mkdtempSync(path.join(os.tmpdir(), "nb-badweights-"));
  try {
    for (const f of ["det_10g.onnx", "w600k_r50.onnx"]) {
      fs.mkdirSync(path.join(broken, "insightface/buffalo_l"), { recursive: true });
      fs.writeFileSync(path.join(broken, "insightface/buffalo_l", f), "not onnx");
    }
    await assert.rejects(InsightFaceBackend.create({ modelsDir: broken }), (e: FarmError) => e.code === "MODEL_ERROR" && e.message.includes("w600k_r50.onnx"));
  } finally {
    fs.rmSync(broken, { recursive: true, force: true });
  }
  const r = await run("face.embed_references", { images: ["in/ramp.png"], model: "insightface" });
  assert.equal(r.model, "insightface");
  assert.equal(r.embedding_dim, 512);
  const [only] = r.results as { ok: boolean; embedding?: number[]; bbox?: number[] }[];
  assert.equal(only!.ok, true); // face A (320x384) dominates face B (128x64)
  assert.deepEqual(only!.bbox, [512, 160, 832, 544]);
  assert.equal(only!.embedding!.length, 512);
});
