const SR = Number(process.env.AUDIO_SR ?? 22050);
import { decodeAudio } from "./plugins/audio/decode.ts";
import { analyzePcm } from "./plugins/audio/analyze.ts";
import { frameFeatures } from "./plugins/audio/dsp/features.ts";
import { chromagram } from "./plugins/audio/dsp/chroma.ts";
const f = "/tmp/aeval/speed-3min.mp3";
const cpu = (fn: () => unknown) => { const c = process.cpuUsage(); const t = performance.now(); fn(); const d = process.cpuUsage(c); return `${((d.user + d.system) / 1000).toFixed(0)}cpu/${(performance.now() - t).toFixed(0)}wall`; };
for (let i = 0; i < 3; i++) {
  const t = performance.now();
  const x = await decodeAudio(f, { sampleRate: SR });
  const td = performance.now() - t;
  console.log({ decodeWall: td.toFixed(0), feats: cpu(() => frameFeatures(x, SR)), chroma: cpu(() => chromagram(x, SR)), all: cpu(() => analyzePcm(x, SR)) });
}
