/**
 * A short real decode of the music before the encode. ffprobe reads headers only: a
 * Matroska track whose SamplingFrequency is 0 probes fine (sample_rate=0) and only the
 * encode fails, after minutes of work on long timelines, as JOB_FAILED carrying ffmpeg's
 * raw stderr ("Sample rate 0 invalid", "[abuffer] Error setting option time_base"). Decoding
 * the exact window the encode will use, through the same resample/format chain, turns
 * such input into a VALIDATION_ERROR naming the field before anything is encoded.
 */
import { FarmError, validation } from "../../../core/errors.ts";
import { FFMPEG, lastLines, runProcess, type RunOptions } from "./ffmpeg-run.ts";
import { SAMPLE_RATE } from "./filter-graph.ts";

export async function checkAudioDecodes(file: string, field: string, startS: number, seconds: number, run: RunOptions): Promise<void> {
  const args = [
    "-v",
    "error",
    "-nostdin",
    "-ss",
    startS.toFixed(6),
    "-t",
    seconds.toFixed(6),
    "-i",
    file,
    "-map",
    "0:a:0",
    "-af",
    `aresample=${SAMPLE_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo`,
    "-f",
    "null",
    "-",
  ];
  try {
    await runProcess(FFMPEG, args, run);
  } catch (err) {
    if (err instanceof FarmError && err.code === "JOB_CANCELLED") throw err;
    const why = err instanceof Error ? lastLines(err.message.replace(/^.*?failed \([^)]*\): /, ""), 2) : String(err);
    throw validation(field, "decodable_audio", `${field}: the audio cannot be decoded (ffmpeg: ${why || "unknown error"})`);
  }
}
