/**
 * Samples -> wav (16-bit PCM) and mp3 in the artifact store, one ffmpeg run writing both,
 * under outputs/music/musicgen-<job>.{mp3,wav}; the API serves them at /outputs/music/...
 */
import fs from "node:fs";
import path from "node:path";
import { outputUrl } from "../../core/artifact-store.ts";
import type { TaskContext } from "../../core/plugin-contract.ts";
import { FFMPEG, runProcess } from "../video/src/ffmpeg-run.ts";

export interface EncodedAudio {
  audio_url: string;
  wav_url: string;
  mp3_key: string;
  wav_key: string;
}

const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, "_");

export async function encodeOutputs(ctx: TaskContext, jobId: string, samples: Float32Array, sampleRate: number, mp3Kbps: number): Promise<EncodedAudio> {
  const raw = path.join(ctx.workDir, "musicgen.f32");
  const wav = path.join(ctx.workDir, "musicgen.wav");
  const mp3 = path.join(ctx.workDir, "musicgen.mp3");
  await fs.promises.writeFile(raw, Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength));
  await runProcess(
    FFMPEG,
    [
      "-nostdin",
      "-v",
      "error",
      "-y",
      "-f",
      "f32le",
      "-ar",
      String(sampleRate),
      "-ac",
      "1",
      "-i",
      raw,
      "-c:a",
      "pcm_s16le",
      wav,
      "-c:a",
      "libmp3lame",
      "-b:a",
      `${mp3Kbps}k`,
      mp3,
    ],
    { signal: ctx.signal, trackChild: ctx.trackChild },
  );
  const base = `outputs/music/musicgen-${safe(jobId)}`;
  const mp3Key = `${base}.mp3`;
  const wavKey = `${base}.wav`;
  await ctx.artifacts.putFile(mp3Key, mp3, "audio/mpeg");
  await ctx.artifacts.putFile(wavKey, wav, "audio/wav");
  return { audio_url: outputUrl(mp3Key), wav_url: outputUrl(wavKey), mp3_key: mp3Key, wav_key: wavKey };
}
