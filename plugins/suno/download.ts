/**
 * Copy a finished clip's audio into the artifact store.
 *
 * The audio is streamed to the task's workDir first (bounded by MAX_AUDIO_BYTES, with an
 * idle timeout of timeout_ms between chunks, so a slow CDN is fine but a stalled one is
 * not), checked to really be MP3, then put into the store with its size (S3 needs it for
 * streams). The API key is only sent when the audio lives on the bridge itself: Suno's
 * CDN needs none, and a key must not leak to other hosts.
 */
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { TaskContext } from "../../core/plugin-contract.ts";
import { outputUrl } from "../../core/artifact-store.ts";
import { FarmError } from "../../core/errors.ts";
import type { SunoConfig } from "./config.ts";
import { bridgeError, cancelled } from "./errors.ts";

/** Suno songs are 3-8 minutes of MP3 (5-20 MB); 200 MB is far beyond any real one. */
export const MAX_AUDIO_BYTES = 200 * 1024 * 1024;

export interface SavedAudio {
  /** Artifact key, e.g. "outputs/music/<job>-<clip>.mp3". */
  key: string;
  /** Public path the API serves it under, e.g. "/outputs/music/<job>-<clip>.mp3". */
  path: string;
  size: number;
}

const safe = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 100);

export const musicKey = (jobId: string, clipId: string) => `outputs/music/${safe(jobId)}-${safe(clipId)}.mp3`;

/** MP3 starts with an ID3v2 tag or an MPEG audio frame sync (11 set bits). */
function looksLikeMp3(head: Buffer): boolean {
  if (head.length >= 3 && head.toString("latin1", 0, 3) === "ID3") return true;
  return head.length >= 2 && head[0] === 0xff && ((head[1] ?? 0) & 0xe0) === 0xe0;
}

export async function downloadClipAudio(audioUrl: string, key: string, cfg: SunoConfig, ctx: TaskContext, maxBytes = MAX_AUDIO_BYTES): Promise<SavedAudio> {
  let url: URL;
  try {
    url = new URL(audioUrl, cfg.base_url + "/");
  } catch {
    throw bridgeError(`Suno clip audio_url is not a URL: ${JSON.stringify(audioUrl)}`, "audio_url", { audio_url: audioUrl }, false);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw bridgeError(`Suno clip audio_url must be http or https, got '${url.protocol}'`, "audio_url", { audio_url: audioUrl }, false);
  }
  const headers: Record<string, string> = {};
  if (cfg.api_key && url.origin === new URL(cfg.base_url).origin) headers.authorization = `Bearer ${cfg.api_key}`;

  // Idle timeout: re-armed on every chunk.
  const idle = new AbortController();
  let timer = setTimeout(() => idle.abort(), cfg.timeout_ms);
  const rearm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => idle.abort(), cfg.timeout_ms);
  };
  const signal = AbortSignal.any([ctx.signal, idle.signal]);
  const file = path.join(ctx.workDir, `${safe(path.basename(key))}.download`);
  let size = 0;
  let head = Buffer.alloc(0);
  try {
    const res = await fetch(url, { headers, signal, redirect: "follow" });
    if (!res.ok || !res.body)
      throw bridgeError(`downloading Suno audio ${url.href} failed with HTTP ${res.status}`, "download", { status: res.status, audio_url: url.href }, false);
    const declared = Number(res.headers.get("content-length") ?? NaN);
    if (Number.isFinite(declared) && declared > maxBytes) {
      throw bridgeError(
        `Suno audio ${url.href} is ${declared} bytes, over the ${maxBytes}-byte limit`,
        "max_size",
        { size: declared, max_bytes: maxBytes },
        false,
      );
    }
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        rearm();
        size += chunk.length;
        if (head.length < 4) head = Buffer.concat([head, chunk.subarray(0, 4)]);
        if (size > maxBytes) return cb(bridgeError(`Suno audio ${url.href} exceeds the ${maxBytes}-byte limit`, "max_size", { max_bytes: maxBytes }, false));
        cb(null, chunk);
      },
    });
    await pipeline(Readable.fromWeb(res.body as import("node:stream/web").ReadableStream<Uint8Array>), counter, fs.createWriteStream(file), { signal });
  } catch (err) {
    await fsp.rm(file, { force: true });
    if (ctx.signal.aborted) throw cancelled(ctx.signal);
    if (idle.signal.aborted)
      throw bridgeError(`downloading Suno audio ${url.href} stalled for ${cfg.timeout_ms} ms`, "timeout", { audio_url: url.href }, false);
    if (err instanceof FarmError) throw err;
    const cause = (err as { cause?: { code?: unknown } }).cause;
    throw bridgeError(
      `downloading Suno audio ${url.href} failed: ${typeof cause?.code === "string" ? cause.code : err instanceof Error ? err.message : String(err)}`,
      "download",
      { audio_url: url.href },
      false,
    );
  } finally {
    clearTimeout(timer);
  }
  try {
    if (size === 0) throw bridgeError(`Suno audio ${url.href} is empty`, "download", { audio_url: url.href }, false);
    if (!looksLikeMp3(head))
      throw bridgeError(
        `Suno audio ${url.href} is not MP3 (starts with ${JSON.stringify(head.toString("latin1"))})`,
        "not_mp3",
        { audio_url: url.href },
        false,
      );
    const info = await ctx.artifacts.put(key, fs.createReadStream(file), { size, contentType: "audio/mpeg" });
    return { key, path: outputUrl(key), size: info.size };
  } finally {
    await fsp.rm(file, { force: true });
  }
}
