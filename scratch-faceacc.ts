import path from "node:path";
import { createRequire } from "node:module";
import sharp from "sharp";
import { FaceApiBackend } from "./plugins/face/faceapi-backend.ts";
import { decodeImage } from "./plugins/face/image-decode.ts";
import { cosine } from "./core/characters/logic.ts";
sharp.concurrency(1);
const require = createRequire(import.meta.url);
const DEMO = path.join(path.dirname(require.resolve("@vladmandic/face-api/package.json")), "demo");
const iou = (a: number[], b: number[]) => { const w = Math.max(0, Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!)), h = Math.max(0, Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!)); const i = w*h; return i / ((a[2]!-a[0]!)*(a[3]!-a[1]!) + (b[2]!-b[0]!)*(b[3]!-b[1]!) - i); };
const ssd = await FaceApiBackend.create({ detector: "accurate" });
const sizes = (process.argv[2] ?? "320,416,512,608").split(",").map(Number);
const minFace = Number(process.argv[3] ?? 0);
for (const size of sizes) {
  const tiny = await FaceApiBackend.create({ detector: "fast", tinyInputSize: size, fastMinFace: minFace });
  let found = 0, ref = 0, matched = 0, extra = 0, fallback = 0; const ious: number[] = []; const cos: number[] = [];
  for (const i of [1,2,3,4,5,6]) {
    const img = await decodeImage(path.join(DEMO, `sample${i}.jpg`));
    const a = await ssd.detect(img);
    const r = await tiny.detectReport(img);
    if (r.detector !== "tiny_face_detector") fallback++;
    ref += a.length; found += r.faces.length;
    for (const f of r.faces) {
      let best = -1, bi = 0;
      a.forEach((g, j) => { const v = iou(f.bbox, g.bbox); if (v > best) { best = v; bi = j; } });
      if (best >= 0.3) { matched++; ious.push(best); cos.push(cosine(Array.from(await tiny.embed(img, f)), Array.from(await ssd.embed(img, a[bi]!)))); } else extra++;
    }
  }
  ious.sort((x,y)=>x-y); cos.sort((x,y)=>x-y);
  console.log(`tiny ${size} minFace ${minFace}: found ${found} vs ssd ${ref}, matched ${matched}, extra ${extra}, fell back ${fallback}/6; IoU min ${ious[0]?.toFixed(2)} med ${ious[ious.length>>1]?.toFixed(2)}; emb cos(tiny,ssd) min ${cos[0]?.toFixed(3)} med ${cos[cos.length>>1]?.toFixed(3)}`);
}
