import sharp from "sharp";
import { loadFaceApi } from "./plugins/face/faceapi-loader.ts";
const fa = await loadFaceApi();
const tf = fa.tf as any;
console.log("simd", tf.env().getBool("WASM_HAS_SIMD_SUPPORT"), "threads", tf.env().getBool("WASM_HAS_MULTITHREAD_SUPPORT"));
const { data, info } = await sharp("node_modules/@vladmandic/face-api/demo/sample3.jpg").resize(512).raw().toBuffer({ resolveWithObject: true });
const t = tf.tensor3d(Int32Array.from(data), [info.height, info.width, 3], "int32");
const opt = new fa.SsdMobilenetv1Options({ minConfidence: 0.5, maxResults: 200 });
for (let i = 0; i < 6; i++) { const s = performance.now(); const r = await fa.nets.ssdMobilenetv1.locateFaces(t, opt); console.log(r.length, (performance.now() - s).toFixed(0)); }
