/**
 * Storing an uploaded media file: stream it to a temp file while hashing and counting
 * (stopping at the size limit, so an oversize upload never fills the disk), sniff the
 * real type from its first bytes, probe images for decompression bombs, then put it in
 * the artifact store under a content-addressed key: `uploads/<sha[0:2]>/<sha>.<ext>`.
 * The same bytes uploaded twice are stored once.
 */
import fs from "node:fs";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import crypto from "node:crypto";
import { Transform, type Readable, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import sharp, { type Metadata } from "sharp";
import { FarmError } from "../../core/errors.ts";
import { declaredFamily, formatsFor, sniffType, SNIFF_BYTES, type MediaKind, type SniffedType } from "./sniff.ts";
import { limitName, maxBytes, type InputDeps } from "./input-deps.ts";

export interface UploadOptions {
  /** What the receiving field takes; a file of another family is UNSUPPORTED_MEDIA_TYPE. */
  kind: MediaKind;
  /** Client file name: used in messages only (the bytes decide the type). */
  filename?: string;
  /** Client-declared MIME type: must not contradict the sniffed family when given. */
  declaredType?: string;
  /** Request field name for error details (default "file"). */
  field?: string;
}

export interface StoredUpload {
  /** Artifact key, `uploads/<sha[0:2]>/<sha>.<ext>`. */
  key: string;
  size: number;
  sha256: string;
  /** The sniffed MIME type (never the declared one). */
  content_type: string;
  format: string;
  /** Pixel size, for images. */
  width?: number;
  height?: number;
}

/** Key of a content-addressed upload. */
export const uploadKey = (sha256: string, ext: string) => `uploads/${sha256.slice(0, 2)}/${sha256}.${ext}`;

/**
 * Store one upload. Rejections (all FarmErrors with `details.field`):
 * - PAYLOAD_TOO_LARGE past the field kind's limit (`api.inputs.max_<kind>_mb`), checked while streaming;
 * - UNSUPPORTED_MEDIA_TYPE when the bytes are no supported format, are another family than
 *   the field takes, or contradict `declaredType`;
 * - VALIDATION_ERROR for an empty body, an undecodable image, or an image over
 *   `api.inputs.max_image_pixels` (a decompression bomb: small file, huge canvas), with
 *   constraint `max_image_pixels`.
 */
/** How old a stored copy of an upload may be before sending it again rewrites it. */
const RENEW_AFTER_MS = 3_600_000;

export async function storeUpload(body: Readable, opts: UploadOptions, deps: InputDeps): Promise<StoredUpload> {
  const field = opts.field ?? "file";
  // Watch the body from the first tick: a multipart part cut short (body ended before the
  // closing boundary) errors and closes while the temp folder is being made, and a pipeline
  // started on such an already-closed stream never settled: the client waited forever.
  const broken = bodyFailure(body, field);
  const dir = deps.tmpDir ?? os.tmpdir();
  await fsp.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `nb-upload-${crypto.randomBytes(8).toString("hex")}`);
  const guard = new UploadGuard(opts, field, deps);
  try {
    await Promise.race([pipeline(body, guard, fs.createWriteStream(tmp, { flags: "wx" })), broken.promise]);
    const type = guard.type;
    if (guard.size === 0 || !type) throw new FarmError("VALIDATION_ERROR", `${field}: the upload is empty`, { field, constraint: "non-empty" });
    const sha256 = guard.sha256();
    const dims = type.family === "image" ? await probeImage(tmp, field, deps.inputs.max_image_pixels) : undefined;
    const key = uploadKey(sha256, type.ext);
    const existing = await deps.store.stat(key);
    // Same content already stored: skip the write, unless the copy is older than an hour, so a
    // file sent again renews its age for the retention sweep (core/artifacts/retention.ts).
    const stale = (existing?.modifiedAt ?? 0) < Date.now() - RENEW_AFTER_MS;
    if (!existing || existing.size !== guard.size || stale) await deps.store.putFile(key, tmp, type.content_type);
    return { key, size: guard.size, sha256, content_type: type.content_type, format: type.format, ...dims };
  } finally {
    broken.dispose();
    await fsp.rm(tmp, { force: true });
  }
}

/** Client-side multipart faults, as busboy words them, answered 400 naming the field. */
const MULTIPART_FAULT = /terminated early|unexpected end of (multipart|form)|boundary not found|malformed part header/i;

/**
 * Map a multipart parser error (busboy's plain Errors) to a 400 naming the field; null
 * for anything else, which stays a server error. `field` is "content-type" for a missing
 * boundary parameter and the file field for a body cut short.
 */
export function multipartFault(err: unknown, field = "file"): FarmError | null {
  if (err instanceof FarmError) return err;
  // @fastify/multipart refuses a part named __proto__ (or constructor/prototype) with its own
  // 400 error, which reached the error handler as an unknown error: a 500 (found by the fuzzer).
  if ((err as { code?: string } | null)?.code === "FST_PROTO_VIOLATION") {
    return new FarmError("VALIDATION_ERROR", `${field}: a multipart part may not be named __proto__, constructor or prototype`, {
      field,
      constraint: "part_name",
    });
  }
  const msg = err instanceof Error ? err.message : "";
  if (!MULTIPART_FAULT.test(msg)) return null;
  if (/boundary not found/i.test(msg)) {
    return new FarmError("VALIDATION_ERROR", "multipart/form-data needs a boundary parameter in Content-Type", {
      field: "content-type",
      constraint: "multipart boundary",
    });
  }
  return new FarmError("VALIDATION_ERROR", `${field}: the multipart body is malformed (${msg}); send it with its closing boundary`, {
    field,
    constraint: "multipart boundary",
  });
}

/** A promise that rejects (with a 400) when the upload body fails before it is read whole. */
function bodyFailure(body: Readable, field: string): { promise: Promise<never>; dispose(): void } {
  let fail: (err: unknown) => void = () => {};
  const promise = new Promise<never>((_, reject) => {
    fail = (err) => reject(multipartFault(err, field) ?? err);
  });
  promise.catch(() => {}); // settled by the race, or by nobody when the upload succeeds
  const onError = (err: unknown) => fail(err);
  body.on("error", onError);
  if (body.errored) fail(body.errored);
  return { promise, dispose: () => body.off("error", onError) };
}

/** Passes bytes through while hashing, counting, sniffing the head and enforcing the limit. */
class UploadGuard extends Transform {
  size = 0;
  type: SniffedType | null = null;
  private readonly hash = crypto.createHash("sha256");
  private head: Buffer[] = [];
  private headLen = 0;
  private limit: number;

  constructor(
    private readonly opts: UploadOptions,
    private readonly field: string,
    private readonly deps: InputDeps,
  ) {
    super();
    this.limit = maxBytes(opts.kind, deps.inputs);
  }

  sha256(): string {
    return this.hash.digest("hex");
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.size += chunk.length;
      if (!this.type) {
        this.head.push(chunk);
        this.headLen += chunk.length;
        if (this.headLen >= SNIFF_BYTES) this.decideType();
      }
      this.checkLimit();
      this.hash.update(chunk);
      cb(null, chunk);
    } catch (err) {
      cb(err as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    try {
      if (!this.type && this.headLen > 0) this.decideType();
      this.checkLimit();
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  private checkLimit(): void {
    if (this.size > this.limit) {
      const mb = Math.round((this.limit / (1024 * 1024)) * 100) / 100;
      throw new FarmError("PAYLOAD_TOO_LARGE", `${this.field}: ${this.type?.format ?? this.opts.kind} is larger than ${mb} MB`, {
        field: this.field,
        constraint: limitName(this.type && this.opts.kind === "any" ? this.type.family : this.opts.kind),
        limit_bytes: this.limit,
      });
    }
  }

  private decideType(): void {
    const head = Buffer.concat(this.head, this.headLen);
    this.head = [];
    const name = this.opts.filename ? ` ('${this.opts.filename}')` : "";
    const type = sniffType(head);
    if (!type) {
      const kind = this.opts.kind === "any" ? "media" : this.opts.kind;
      throw new FarmError(
        "UNSUPPORTED_MEDIA_TYPE",
        `${this.field}${name}: not a supported ${kind} format (supported: ${formatsFor(this.opts.kind).join(", ")})`,
        {
          field: this.field,
          constraint: "format",
        },
      );
    }
    if (!type.kinds.includes(this.opts.kind)) {
      throw new FarmError("UNSUPPORTED_MEDIA_TYPE", `${this.field}${name}: expected ${this.opts.kind}, got ${type.format} (${type.content_type})`, {
        field: this.field,
        constraint: `kind:${this.opts.kind}`,
      });
    }
    const declared = declaredFamily(this.opts.declaredType);
    if (declared && !type.kinds.includes(declared)) {
      throw new FarmError("UNSUPPORTED_MEDIA_TYPE", `${this.field}${name}: declared ${this.opts.declaredType} but the content is ${type.content_type}`, {
        field: this.field,
        constraint: "declared type matches content",
      });
    }
    this.type = type;
    if (this.opts.kind === "any") this.limit = maxBytes(type.family, this.deps.inputs);
  }
}

/** Read the image header with the pixel limit on: sharp refuses bombs before decoding. */
async function probeImage(file: string, field: string, maxPixels: number): Promise<{ width: number; height: number }> {
  let meta: Metadata;
  try {
    meta = await sharp(file, { limitInputPixels: maxPixels, sequentialRead: true }).metadata();
  } catch (err) {
    const msg = (err as Error).message;
    if (/pixel limit/i.test(msg)) {
      throw new FarmError("VALIDATION_ERROR", `${field}: image dimensions exceed ${maxPixels} pixels (api.inputs.max_image_pixels)`, {
        field,
        constraint: "max_image_pixels",
        limit_pixels: maxPixels,
      });
    }
    throw new FarmError("VALIDATION_ERROR", `${field}: the image cannot be decoded (${msg})`, { field, constraint: "decodable image" });
  }
  const { width, height } = meta;
  if (!width || !height) throw new FarmError("VALIDATION_ERROR", `${field}: the image has no dimensions`, { field, constraint: "decodable image" });
  // Animated GIF/WebP: sharp's limit counts one frame; the whole animation must fit too.
  const pages = meta.pages ?? 1;
  if (width * height * pages > maxPixels) {
    throw new FarmError("VALIDATION_ERROR", `${field}: image (${width}x${height}x${pages} frames) exceeds ${maxPixels} pixels (api.inputs.max_image_pixels)`, {
      field,
      constraint: "max_image_pixels",
      limit_pixels: maxPixels,
      width,
      height,
    });
  }
  return { width, height };
}
