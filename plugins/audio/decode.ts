/**
 * Streaming decode of anything ffmpeg reads (mp3, wav, flac, ogg/opus, m4a, a video's
 * audio) to mono float PCM: `ffmpeg -v error -i IN -f f32le -ac 1 -ar SR pipe:1`.
 * The child is registered with `trackChild` and killed on `signal`. Failures to decode
 * are the caller's input problem: FarmError VALIDATION_ERROR on field `audio_path`.
 */
import { spawn } from "node:child_process";
import { FarmError } from "../../core/errors.ts";

export interface DecodeOptions {
  /** Output sample rate. Default 22050 (enough for onsets up to 10 kHz and 5 Hz chroma resolution). */
  sampleRate?: number;
  /** Longest audio accepted, seconds (memory bound: 4 bytes × SR per second). Default 1800. */
  maxSeconds?: number;
  signal?: AbortSignal;
  trackChild?: (child: { pid?: number; kill(signal?: NodeJS.Signals | number): boolean }) => void;
  /** ffmpeg binary. Default "ffmpeg". */
  ffmpegPath?: string;
}

export const DEFAULT_SR = 22050;

export function decodeAudio(file: string, opts: DecodeOptions = {}): Promise<Float32Array> {
  const sr = opts.sampleRate ?? DEFAULT_SR;
  const maxBytes = Math.ceil((opts.maxSeconds ?? 1800) * sr) * 4;
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(opts.signal.reason ?? new Error("aborted"));
    const child = spawn(
      opts.ffmpegPath ?? "ffmpeg",
      [
        "-nostdin",
        "-v",
        "error",
        "-i",
        file,
        "-vn",
        // A short resampling filter: analysis needs no mastering-grade resampler, and the
        // default (32 taps) costs a fifth of the decode time.
        "-af",
        `aresample=${sr}:filter_size=8`,
        "-f",
        "f32le",
        "-ac",
        "1",
        "-ar",
        String(sr),
        "pipe:1",
      ],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    opts.trackChild?.(child);
    const chunks: Buffer[] = [];
    let bytes = 0;
    let stderr = "";
    let failure: Error | null = null;
    const onAbort = () => {
      failure = opts.signal?.reason instanceof Error ? opts.signal.reason : new FarmError("JOB_CANCELLED", "audio decoding cancelled");
      child.kill("SIGKILL");
    };
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    child.stdout.on("data", (c: Buffer) => {
      bytes += c.length;
      if (bytes > maxBytes && !failure) {
        failure = new FarmError("VALIDATION_ERROR", `audio is longer than ${opts.maxSeconds ?? 1800} s`, {
          field: "audio_path",
          constraint: `duration <= ${opts.maxSeconds ?? 1800} s`,
        });
        child.kill("SIGKILL");
        return;
      }
      chunks.push(c);
    });
    child.stderr.on("data", (c: Buffer) => {
      if (stderr.length < 4000) stderr += c.toString();
    });
    child.on("error", (err) => {
      opts.signal?.removeEventListener("abort", onAbort);
      reject(new FarmError("INTERNAL_ERROR", `cannot run ffmpeg: ${err.message}`));
    });
    child.on("close", (code) => {
      opts.signal?.removeEventListener("abort", onAbort);
      if (failure) return reject(failure);
      const firstLine = stderr.trim().split("\n").pop() ?? "";
      if (code !== 0) {
        return reject(
          new FarmError("VALIDATION_ERROR", `audio_path could not be decoded as audio${firstLine ? `: ${firstLine}` : ""}`, {
            field: "audio_path",
            constraint: "a readable audio or video file with an audio stream",
          }),
        );
      }
      const all = Buffer.concat(chunks, bytes);
      const n = Math.floor(all.length / 4);
      if (n === 0) {
        return reject(
          new FarmError("VALIDATION_ERROR", "audio_path has no audio samples", {
            field: "audio_path",
            constraint: "a readable audio or video file with an audio stream",
          }),
        );
      }
      // f32le is the host order on every platform Node supports (x64, arm64: little-endian).
      // Copy into a fresh, aligned Float32Array (a Buffer's offset need not be 4-aligned).
      const out = new Float32Array(n);
      new Uint8Array(out.buffer).set(all.subarray(0, n * 4));
      resolve(out);
    });
  });
}
