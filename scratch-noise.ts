import { analyzePcm } from "./plugins/audio/analyze.ts";
import { mulberry32 } from "./scripts/audio-eval/rng.ts";
const SR = 22050; const rng = mulberry32(7);
const x = new Float32Array(SR * 30); for (let i = 0; i < x.length; i++) x[i] = 0.3 * (rng() * 2 - 1);
const r = analyzePcm(x, SR); console.log(JSON.stringify({ ...r, energy: undefined, beats: r.beats?.length }));
// pink-ish random bursts (speech-like envelope)
const y = new Float32Array(SR * 30); let t = 0; while (t < 29) { const len = 0.1 + rng() * 0.4; const f = 120 + rng() * 100; for (let i = 0; i < len * SR; i++) { const j = Math.round(t * SR) + i; y[j] = 0.3 * Math.sin(2 * Math.PI * f * i / SR) * Math.sin(Math.PI * i / (len * SR)) + 0.05 * (rng() - 0.5); } t += len + rng() * 0.3; }
const r2 = analyzePcm(y, SR); console.log(JSON.stringify({ ...r2, energy: undefined, beats: r2.beats?.length }));
