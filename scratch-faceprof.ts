import fs from "node:fs";
const orig = fs.readFile; (fs as any).readFile = function (p: any, ...r: any[]) { if (String(p).endsWith(".wasm")) console.log("wasm file read:", String(p)); return (orig as any).call(this, p, ...r); };
const origS = fs.readFileSync; (fs as any).readFileSync = function (p: any, ...r: any[]) { if (String(p).endsWith(".wasm")) console.log("wasm file readSync:", String(p)); return (origS as any).call(this, p, ...r); };
const { loadFaceApi } = await import("./plugins/face/faceapi-loader.ts");
const fa = await loadFaceApi();
const tf = fa.tf as any;
const t = tf.tensor3d(new Int32Array(512*512*3).map(()=>Math.random()*255|0),[512,512,3],"int32");
const opts = new fa.SsdMobilenetv1Options({minConfidence:0.5,maxResults:200});
await fa.nets.ssdMobilenetv1.locateFaces(t, opts);
const prof = await tf.profile(async () => { await fa.nets.ssdMobilenetv1.locateFaces(t, opts); });
const by: Record<string, {ms:number;n:number}> = {};
for (const k of prof.kernels) { const e = by[k.name] ??= {ms:0,n:0}; e.ms += Number(k.kernelTimeMs)||0; e.n++; }
console.log(Object.entries(by).sort((a,b)=>b[1].ms-a[1].ms).slice(0,15).map(([k,v])=>`${k} ${v.ms.toFixed(1)}ms x${v.n}`).join("\n"));
const convs = prof.kernels.filter((k:any)=>k.name.includes("Conv")).map((k:any)=>`${k.name} ${k.inputShapes.map((s:any)=>JSON.stringify(s)).join(" ")} ${Number(k.kernelTimeMs).toFixed(1)}`);
console.log(convs.slice(0,40).join("\n"));
