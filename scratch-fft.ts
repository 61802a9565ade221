import FFT from "fft.js";
const n = 1024, frames = 8000;
const f = new FFT(n);
const a = new Array<number>(n).fill(0).map(() => Math.random()); const ao = f.createComplexArray() as number[];
const t = new Float64Array(n).map(() => Math.random()); const to = new Float64Array(2 * n);
for (let r = 0; r < 4; r++) {
  let c = process.cpuUsage(); for (let i = 0; i < frames; i++) f.realTransform(ao, a); const arr = process.cpuUsage(c).user / 1000;
  c = process.cpuUsage(); for (let i = 0; i < frames; i++) f.realTransform(to as any, t as any); const typed = process.cpuUsage(c).user / 1000;
  console.log({ arr, typed });
}
