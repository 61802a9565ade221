/**
 * The artifact store: where every byte of media lives (inputs, outputs, uploads).
 * Nothing large travels over the mesh; agents and the API read and write here.
 *
 * Keys are relative, slash-separated paths such as `outputs/videos/<job>.mp4` or
 * `uploads/ab/ab12…ef.png`. A key never starts with `/`, never contains `..`.
 * Implementations: `fs` (embedded mode, a folder) and `s3` (MinIO / any S3).
 */
import type { Readable } from "node:stream";

export interface ArtifactInfo {
  key: string;
  size: number;
  contentType?: string;
  etag?: string;
  modifiedAt?: number;
}

export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
}

export interface PutOptions {
  /** Byte length when known: required by S3 for streams. */
  size?: number;
  contentType?: string;
}

export interface ArtifactStore {
  readonly kind: string;
  put(key: string, body: Buffer | Readable, opts?: PutOptions): Promise<ArtifactInfo>;
  putFile(key: string, filePath: string, contentType?: string): Promise<ArtifactInfo>;
  /** A stream of the object's bytes (or of a range of them). Rejects NOT_FOUND when absent. */
  get(key: string, range?: ByteRange): Promise<Readable>;
  /** Download into a local file (agents fetch inputs this way). */
  getToFile(key: string, filePath: string): Promise<void>;
  /** Metadata, or null when the key does not exist. */
  stat(key: string): Promise<ArtifactInfo | null>;
  delete(key: string): Promise<void>;
  /** Keys under a prefix (operators, tests, cleanup). */
  list(prefix: string): Promise<ArtifactInfo[]>;
  close?(): Promise<void>;
}

/** Throws VALIDATION_ERROR-worthy problems as plain Error; callers map it. */
export function assertSafeKey(key: string): void {
  if (typeof key !== "string" || key.length === 0 || key.length > 512) throw new Error(`invalid artifact key`);
  if (key.startsWith("/") || key.includes("\\") || key.includes("\0")) throw new Error(`invalid artifact key: ${key}`);
  if (key.split("/").some((p) => p === ".." || p === "." || p === "")) throw new Error(`invalid artifact key: ${key}`);
}

/** The public URL path under which the API serves an artifact key. */
export const outputUrl = (key: string) => `/outputs/${key.replace(/^outputs\//, "")}`;
