import sharp from "sharp";
import { loadFaceApi } from "./plugins/face/faceapi-loader.ts";
const fa = await loadFaceApi();
const tf = fa.tf;
const { data, info } = await sharp("node_modules/@vladmandic/face-api/demo/sample3.jpg").resize(512).raw().toBuffer({ resolveWithObject: true });
const t = tf.tensor3d(Int32Array.from(data), [info.height, info.width, 3], "int32");
const opt = new fa.SsdMobilenetv1Options({ minConfidence: 0.5, maxResults: 200 });
const cpu: number[] = [];
for (let i = 0; i < 8; i++) { const c = process.cpuUsage(); await fa.nets.ssdMobilenetv1.locateFaces(t, opt); const d = process.cpuUsage(c); cpu.push((d.user + d.system) / 1000); }
console.log("ssd cpu ms", cpu.map((x) => x.toFixed(0)).join(" "));
const c2: number[] = [];
for (let i = 0; i < 8; i++) { const c = process.cpuUsage(); const r = await sharp("node_modules/@vladmandic/face-api/demo/sample3.jpg").raw().toBuffer({ resolveWithObject: true }); await sharp(r.data, { raw: { width: r.info.width, height: r.info.height, channels: 3 } }).resize(512).raw().toBuffer(); const d = process.cpuUsage(c); c2.push((d.user + d.system) / 1000); }
console.log("decode+resize cpu ms (2.6 Mpx jpeg)", c2.map((x) => x.toFixed(0)).join(" "));
