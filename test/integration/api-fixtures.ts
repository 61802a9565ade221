/**
 * Shared by the api-*.test.ts files: the error-envelope assertion and tiny real media
 * (a PNG made with sharp, a wav and an mp3 made with ffmpeg's lavfi sine source).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import type { HttpResult } from "../helpers/http.ts";

/**
 * The spec's envelope, exactly: {error: true, code, message, details: {field, constraint, ...}, timestamp ISO}.
 * `field` undefined means "any non-empty field"; the details may carry extra keys (allowed, reasons, ...).
 */
export function assertEnvelope(r: HttpResult, status: number, code: string, field?: string): Record<string, unknown> {
  const body = r.body as Record<string, unknown>;
  assert.equal(r.status, status, `expected ${status} ${code}, got ${r.status} ${JSON.stringify(body)}`);
  assert.equal(typeof body, "object", `body is not JSON: ${String(body)}`);
  assert.deepEqual(Object.keys(body).sort(), ["code", "details", "error", "message", "timestamp"], `envelope keys: ${JSON.stringify(body)}`);
  assert.equal(body.error, true);
  assert.equal(body.code, code, JSON.stringify(body));
  assert.equal(typeof body.message, "string");
  assert.ok(String(body.message).length > 0, "message is empty");
  const ts = String(body.timestamp);
  assert.equal(new Date(ts).toISOString(), ts, `timestamp is not ISO 8601: ${ts}`);
  const details = body.details as Record<string, unknown>;
  assert.equal(typeof details, "object");
  assert.equal(typeof details.field, "string", `details.field missing: ${JSON.stringify(body)}`);
  assert.equal(typeof details.constraint, "string", `details.constraint missing: ${JSON.stringify(body)}`);
  if (field !== undefined) assert.equal(details.field, field, `details.field: ${JSON.stringify(body)}`);
  return details;
}

export interface Media {
  pngBase64: string;
  pngDataUrl: string;
  pngBytes: Buffer;
  wavBase64: string;
  wavDataUrl: string;
  mp3Base64: string;
  mp3DataUrl: string;
}

function ffmpeg(args: string[]): void {
  const r = spawnSync("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", ...args], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ffmpeg ${args.join(" ")} failed: ${r.stderr}`);
}

export async function makeMedia(): Promise<Media> {
  const pngBytes = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 220, g: 120, b: 30 } } })
    .png()
    .toBuffer();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nb-api-media-"));
  try {
    const wav = path.join(dir, "tone.wav");
    const mp3 = path.join(dir, "tone.mp3");
    ffmpeg(["-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-ar", "22050", "-ac", "1", wav]);
    ffmpeg(["-f", "lavfi", "-i", "sine=frequency=220:duration=2", "-c:a", "libmp3lame", "-b:a", "64k", mp3]);
    const wavBase64 = fs.readFileSync(wav).toString("base64");
    const mp3Base64 = fs.readFileSync(mp3).toString("base64");
    const pngBase64 = pngBytes.toString("base64");
    return {
      pngBytes,
      pngBase64,
      pngDataUrl: `data:image/png;base64,${pngBase64}`,
      wavBase64,
      wavDataUrl: `data:audio/wav;base64,${wavBase64}`,
      mp3Base64,
      mp3DataUrl: `data:audio/mpeg;base64,${mp3Base64}`,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
