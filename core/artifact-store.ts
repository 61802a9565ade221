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

/**
 * What put() takes: one buffer, a stream, or a list of buffers written in order as one object
 * (the chunks a socket delivered, written with one writev instead of first being copied into
 * one buffer: that copy was ~0.6 ms of every image job's critical path under load).
 */
export type PutBody = Buffer | readonly Buffer[] | Readable;

/**
 * A put written piece by piece while its bytes arrive (the fs store, for bodies too big to
 * write in one synchronous go): each write() goes to a temp file at once, commit() renames it
 * to the key, so a reader never sees a partial object; abort() removes the temp file.
 * Synchronous on purpose: a write of one network chunk into the page cache takes tens of µs,
 * less than a thread-pool round trip would wait for the loop, and never holds it for long.
 */
export interface ArtifactWriter {
  /** Appends the bytes now. A failure throws (call abort()). */
  write(chunk: Buffer): void;
  /** Publishes the bytes under the key; put()'s answer. */
  commit(): ArtifactInfo;
  /** Drops what was written; safe after a failed write, after commit (no-op) and twice; never throws (best effort). */
  abort(): void;
}

export interface ArtifactStore {
  readonly kind: string;
  put(key: string, body: PutBody, opts?: PutOptions): Promise<ArtifactInfo>;
  /**
   * A writer for bytes that arrive in pieces, when the store takes them better as they come
   * than whole; undefined when put() of the gathered chunks is better (the fs store: a body
   * whose `opts.size` it writes in one synchronous go), absent when never (S3). Makes the same
   * checks as put() before it returns (a key leading outside the store throws).
   */
  writer?(key: string, opts?: PutOptions): ArtifactWriter | undefined;
  putFile(key: string, filePath: string, contentType?: string): Promise<ArtifactInfo>;
  /**
   * Publishes a file already on this machine under `key` as a hard link: no byte copied (a
   * ComfyUI output on the agent's disk, plugins/comfyui/jobs/local-output.ts). Only when the
   * linked file is the one `expect` names (device and inode, checked after the link, so a file
   * swapped in under that name meanwhile is not published). Undefined when a link cannot be
   * made (another file system, no permission, the inode differs): the caller copies then.
   * The file and the artifact share their bytes from then on; nothing writes either in place
   * (the store writes a temp file and renames; ComfyUI never rewrites a saved output).
   * Absent on stores that are not a local folder (S3).
   */
  linkFile?(key: string, filePath: string, expect: { dev: number; ino: number }, opts?: PutOptions): ArtifactInfo | undefined;
  /** A stream of the object's bytes (or of a range of them). Rejects NOT_FOUND when absent. */
  get(key: string, range?: ByteRange): Promise<Readable>;
  /** Download into a local file (agents fetch inputs this way). */
  getToFile(key: string, filePath: string): Promise<void>;
  /** Metadata, or null when the key does not exist. */
  stat(key: string): Promise<ArtifactInfo | null>;
  delete(key: string): Promise<void>;
  /** Keys under a prefix (operators, tests, cleanup). */
  list(prefix: string): Promise<ArtifactInfo[]>;
  /** Removes temp files of writes last touched before cutoffMs (a process died mid-write); stores that keep none lack it. */
  sweepTemp?(cutoffMs: number): Promise<{ deleted: number; bytes: number }>;
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
