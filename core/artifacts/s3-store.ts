/**
 * S3 artifact store (distributed mode): keys map to objects in one bucket of MinIO or
 * any S3-compatible server, through the `minio` client (v8).
 *
 * Uploads: a body that fits in one part (`part_size_mb`) goes up in a single PUT; a
 * larger one is uploaded as an explicit multipart upload (initiate, one PUT per part,
 * complete; aborted on any error). We drive the parts ourselves instead of letting
 * `putObject` do it because the client first lists in-progress multipart uploads to
 * resume them, which s3rver (the test peer) does not implement, and because a stream
 * of unknown size would otherwise need a temp file to learn its size. Memory use is
 * bounded by one part (default 64 MiB).
 *
 * The bucket is created on first use (or by `ensureBucket()` at start, to fail fast).
 */
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import crypto from "node:crypto";
import { pipeline } from "node:stream/promises";
import type { Readable } from "node:stream";
import { Client } from "minio";
import { assertSafeKey, type ArtifactInfo, type ArtifactStore, type ByteRange, type PutBody, type PutOptions } from "../artifact-store.ts";
import { FarmError } from "../errors.ts";
import type { FarmConfig } from "../config/schema.ts";

export type S3Settings = FarmConfig["artifacts"]["s3"];

/** S3 caps multipart uploads at 10,000 parts. */
const MAX_PARTS = 10_000;
const MiB = 1024 * 1024;

export class S3ArtifactStore implements ArtifactStore {
  readonly kind = "s3";
  readonly bucket: string;
  readonly partSize: number;
  private readonly client: Client;
  private readonly region: string;
  private bucketReady: Promise<void> | null = null;

  /**
   * @param settings `artifacts.s3` from the farm config. `endpoint` is a host name or IP
   *   (`127.0.0.1`, `minio`); a full URL (`http://minio:9000`) is also accepted and then
   *   supplies the port and TLS setting itself.
   */
  constructor(settings: S3Settings) {
    const ep = parseEndpoint(settings);
    this.bucket = settings.bucket;
    this.region = settings.region;
    this.partSize = Math.max(5, settings.part_size_mb) * MiB;
    this.client = new Client({
      endPoint: ep.host,
      port: ep.port,
      useSSL: ep.ssl,
      accessKey: settings.access_key,
      secretKey: settings.secret_key,
      region: settings.region,
      partSize: this.partSize,
      // Path-style works with MinIO, AWS and s3rver alike, and needs no wildcard DNS.
      pathStyle: true,
    });
  }

  /** Create the bucket when it does not exist. Idempotent; a failure is retried next call. */
  ensureBucket(): Promise<void> {
    this.bucketReady ??= (async () => {
      try {
        if (await this.client.bucketExists(this.bucket)) return;
        await this.client.makeBucket(this.bucket, this.region).catch(async (err: unknown) => {
          // Another process may have created it between our check and our create.
          if (!(await this.client.bucketExists(this.bucket))) throw err;
        });
      } catch (err) {
        this.bucketReady = null;
        if ((err as Error | null)?.name === "InvalidBucketNameError") {
          throw new FarmError("VALIDATION_ERROR", `artifacts.s3.bucket '${this.bucket}' is not a valid bucket name`, {
            field: "artifacts.s3.bucket",
            constraint: "S3 bucket name",
          });
        }
        throw unavailable(`S3 bucket '${this.bucket}' is not reachable`, err);
      }
    })();
    return this.bucketReady;
  }

  async put(key: string, input: PutBody, opts: PutOptions = {}): Promise<ArtifactInfo> {
    safeKey(key);
    // A list of chunks is one object: S3 takes one body, so it is joined here (the fs store writes it with writev).
    const body = Array.isArray(input) ? Buffer.concat(input as readonly Buffer[]) : (input as Buffer | Readable);
    await this.ensureBucket();
    const meta: Record<string, string> = opts.contentType ? { "Content-Type": opts.contentType } : {};
    const partSize = opts.size !== undefined && opts.size > 0 ? this.client.calculatePartSize(opts.size) : this.partSize;
    let size: number;
    if (Buffer.isBuffer(body)) {
      size = body.length;
      if (size <= partSize) await this.client.putObject(this.bucket, key, body, size, meta);
      else await this.multipart(key, chunksOf(body, partSize), partSize, meta);
    } else {
      size = await this.putStream(key, body, partSize, meta);
    }
    if (opts.size !== undefined && opts.size !== size) {
      await this.delete(key).catch(() => {});
      throw new FarmError("VALIDATION_ERROR", `artifact '${key}': expected ${opts.size} bytes, got ${size}`, { field: "size", constraint: "matches body" });
    }
    const st = await this.stat(key);
    return st ?? { key, size, contentType: opts.contentType };
  }

  async putFile(key: string, filePath: string, contentType?: string): Promise<ArtifactInfo> {
    const st = await fsp.stat(filePath);
    return this.put(key, fs.createReadStream(filePath), { size: st.size, contentType });
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    safeKey(key);
    await this.ensureBucket();
    try {
      if (!range) return await this.client.getObject(this.bucket, key);
      if (range.start < 0 || range.end < range.start) {
        throw new FarmError("VALIDATION_ERROR", `invalid byte range ${range.start}-${range.end}`, { field: "range", constraint: "start <= end" });
      }
      return await this.client.getPartialObject(this.bucket, key, range.start, range.end - range.start + 1);
    } catch (err) {
      throw mapError(err, key);
    }
  }

  async getToFile(key: string, filePath: string): Promise<void> {
    const body = await this.get(key);
    // Write beside the target and rename, so a reader never sees half a file.
    const tmp = `${filePath}.${crypto.randomBytes(6).toString("hex")}.part`;
    await fsp.mkdir(path.dirname(filePath), { recursive: true });
    try {
      await pipeline(body, fs.createWriteStream(tmp));
      await fsp.rename(tmp, filePath);
    } catch (err) {
      await fsp.rm(tmp, { force: true });
      throw mapError(err, key);
    }
  }

  async stat(key: string): Promise<ArtifactInfo | null> {
    safeKey(key);
    await this.ensureBucket();
    try {
      const st = await this.client.statObject(this.bucket, key);
      const meta = st.metaData as Record<string, unknown> | undefined;
      const ct = meta?.["content-type"];
      return {
        key,
        size: st.size,
        contentType: typeof ct === "string" && ct !== "" ? ct : undefined,
        etag: st.etag,
        modifiedAt: st.lastModified ? new Date(st.lastModified).getTime() : undefined,
      };
    } catch (err) {
      if (isMissing(err)) return null;
      throw mapError(err, key);
    }
  }

  async delete(key: string): Promise<void> {
    safeKey(key);
    await this.ensureBucket();
    try {
      await this.client.removeObject(this.bucket, key);
    } catch (err) {
      if (!isMissing(err)) throw mapError(err, key);
    }
  }

  async list(prefix: string): Promise<ArtifactInfo[]> {
    await this.ensureBucket();
    const out: ArtifactInfo[] = [];
    const stream = this.client.listObjectsV2(this.bucket, prefix, true);
    try {
      for await (const item of stream as AsyncIterable<{ name?: string; size?: number; etag?: string; lastModified?: Date }>) {
        if (!item.name) continue; // common prefixes carry no name
        out.push({ key: item.name, size: item.size ?? 0, etag: item.etag, modifiedAt: item.lastModified?.getTime() });
      }
    } catch (err) {
      throw mapError(err, prefix);
    }
    return out;
  }

  async close(): Promise<void> {
    /* the client keeps no connections that need closing (keep-alive sockets are unref'd) */
  }

  /** Read the first part; small bodies go in one PUT, larger ones as a multipart upload. */
  private async putStream(key: string, body: Readable, partSize: number, meta: Record<string, string>): Promise<number> {
    const parts = partsOf(body, partSize);
    const first = await parts.next();
    if (first.done) {
      await this.client.putObject(this.bucket, key, Buffer.alloc(0), 0, meta);
      return 0;
    }
    const second = await parts.next();
    if (second.done) {
      await this.client.putObject(this.bucket, key, first.value, first.value.length, meta);
      return first.value.length;
    }
    async function* replay(): AsyncGenerator<Buffer> {
      yield first.value as Buffer;
      yield second.value as Buffer;
      yield* parts;
    }
    return this.multipart(key, replay(), partSize, meta);
  }

  /** Explicit multipart upload of already-chunked parts; aborted on failure. Returns bytes sent. */
  private async multipart(key: string, parts: AsyncIterable<Buffer> | Iterable<Buffer>, partSize: number, meta: Record<string, string>): Promise<number> {
    const uploadId = await this.client.initiateNewMultipartUpload(this.bucket, key, meta);
    const etags: { part: number; etag: string }[] = [];
    let total = 0;
    try {
      let part = 0;
      for await (const chunk of parts) {
        part += 1;
        if (part > MAX_PARTS) {
          throw new FarmError("PAYLOAD_TOO_LARGE", `artifact '${key}' exceeds ${MAX_PARTS} parts of ${partSize / MiB} MiB`, {
            field: "body",
            constraint: "max_parts",
          });
        }
        const res = await this.client.uploadPart(
          { bucketName: this.bucket, objectName: key, uploadID: uploadId, partNumber: part, headers: { "Content-Length": chunk.length } },
          chunk,
        );
        etags.push({ part, etag: res.etag });
        total += chunk.length;
      }
      await this.client.completeMultipartUpload(this.bucket, key, uploadId, etags);
      return total;
    } catch (err) {
      await this.client.abortMultipartUpload(this.bucket, key, uploadId).catch(() => {});
      throw mapError(err, key);
    }
  }
}

/** Cut a stream into buffers of exactly `size` bytes (the last one shorter). */
async function* partsOf(body: Readable, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingLen = 0;
  for await (const raw of body) {
    let chunk: Buffer = Buffer.isBuffer(raw) ? raw : Buffer.from(raw as Uint8Array | string);
    while (pendingLen + chunk.length >= size) {
      const take = size - pendingLen;
      pending.push(chunk.subarray(0, take));
      yield Buffer.concat(pending, size);
      pending = [];
      pendingLen = 0;
      chunk = chunk.subarray(take);
    }
    if (chunk.length > 0) {
      pending.push(chunk);
      pendingLen += chunk.length;
    }
  }
  if (pendingLen > 0) yield Buffer.concat(pending, pendingLen);
}

function* chunksOf(buf: Buffer, size: number): Generator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

function parseEndpoint(s: S3Settings): { host: string; port: number; ssl: boolean } {
  if (s.endpoint.includes("://")) {
    const u = new URL(s.endpoint);
    const ssl = u.protocol === "https:";
    return { host: u.hostname.replace(/^\[|\]$/g, ""), port: u.port ? Number(u.port) : ssl ? 443 : 80, ssl };
  }
  return { host: s.endpoint, port: s.port, ssl: s.use_ssl };
}

function safeKey(key: string): void {
  try {
    assertSafeKey(key);
  } catch (err) {
    throw new FarmError("VALIDATION_ERROR", (err as Error).message, { field: "key", constraint: "safe artifact key" });
  }
}

function errCode(err: unknown): string | undefined {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === "string" ? c : undefined;
}

function isMissing(err: unknown): boolean {
  const c = errCode(err);
  return c === "NoSuchKey" || c === "NotFound" || c === "NoSuchObject";
}

/** Missing keys become NOT_FOUND; connection trouble SERVICE_UNAVAILABLE; FarmErrors pass through. */
function mapError(err: unknown, key: string): Error {
  if (err instanceof FarmError) return err;
  if (isMissing(err)) return new FarmError("NOT_FOUND", `artifact '${key}' not found`, { field: "key", constraint: "exists" });
  const c = errCode(err);
  if (c === "InvalidRange")
    return new FarmError("VALIDATION_ERROR", `byte range not satisfiable for artifact '${key}'`, { field: "range", constraint: "within object" });
  if (c === "ECONNREFUSED" || c === "ECONNRESET" || c === "ENOTFOUND" || c === "ETIMEDOUT" || c === "EHOSTUNREACH") {
    return unavailable(`S3 store not reachable (${c})`, err);
  }
  return err instanceof Error ? err : new Error(String(err));
}

function unavailable(message: string, cause: unknown): FarmError {
  if (cause instanceof FarmError) return cause;
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new FarmError("SERVICE_UNAVAILABLE", `${message}: ${detail}`, { field: "artifacts.s3", constraint: "reachable" });
}
