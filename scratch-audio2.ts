import fs from "node:fs";
import { decodeAudio } from "./plugins/audio/decode.ts";
import { frameFeatures } from "./plugins/audio/dsp/features.ts";
import { chromagram } from "./plugins/audio/dsp/chroma.ts";
import { autocorrelation, estimateTempo } from "./plugins/audio/dsp/tempo.ts";
import { chordChangeEnvelope } from "./plugins/audio/dsp/metrical-level.ts";
for (const id of process.argv.slice(2)) {
  const t = JSON.parse(fs.readFileSync(`/tmp/aeval/${id}.json`, "utf8"));
  const x = await decodeAudio(`/tmp/aeval/${id}.mp3`);
  const c = chromagram(x, 22050);
  const env = chordChangeEnvelope(c);
  const h = autocorrelation(env, 300);
  const beat = 60 / t.bpm;
  const at = (s: number) => { const l = s * c.frameRate; let m = -1; for (let i = Math.floor(l - 1); i <= Math.ceil(l + 1); i++) m = Math.max(m, h[i] ?? -1); return m.toFixed(2); };
  console.log(id, t.bpm, t.time_signature, [0.5, 1, 1.5, 2, 3, 4, 6, 8].map((k) => `${k}:${at(k * beat)}`).join(" "));
}
