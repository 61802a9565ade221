/**
 * An image output of ComfyUI (GET /view) into the artifact store, on every image job's
 * critical path between ComfyUI's last message and the farm's answer.
 *
 * The body is taken as the chunks the socket delivered, never copied into one buffer (that
 * copy, ~0.6 ms per job under load, and its garbage were most of what the farm's /view cost
 * beyond a direct client's). A body the store writes in one synchronous go (the fs store, up to
 * 1 MiB: a 512² PNG) is put() as that chunk list once whole, one writev; a bigger one goes to
 * the store's writer() chunk by chunk as it arrives (a 1024² PNG: no thread-pool round trips,
 * no long hold of the loop). Measured both ways for each size (core/artifacts/fs-store.ts,
 * writer()). Stores without a writer (S3) get the chunk list.
 *
 * A body cut mid-way, a deadline passed, a non-200 answer, a body over the client's
 * VIEW_MAX_BYTES, a cancel (`signal`) or a body `accept` refuses leaves no artifact: a writer's temp file is removed, nothing is published under the key.
 */
import type { ArtifactStore, ArtifactWriter, PutOptions } from "../../../core/artifact-store.ts";
import type { ComfyClient, ComfyFileRef } from "../client/index.ts";

export async function viewIntoStore<T>(
  client: ComfyClient,
  file: ComfyFileRef,
  store: ArtifactStore,
  key: string,
  opts: PutOptions,
  /** Reads what the caller needs from the whole body, or throws to refuse it (not the expected kind of file): nothing is stored then. */
  accept: (chunks: readonly Buffer[], size: number) => T,
  /** The task's signal: a cancel drops the transfer, nothing is published. */
  signal?: AbortSignal,
): Promise<{ chunks: Buffer[]; size: number; accepted: T }> {
  let writer: ArtifactWriter | undefined;
  const open = store.writer ? (size: number | undefined) => (writer = store.writer!(key, { ...opts, size })) : undefined;
  try {
    const got = await client.viewChunks(file, open, signal);
    const accepted = accept(got.chunks, got.size);
    // A cancel that came once the body was whole (during accept) still publishes nothing.
    signal?.throwIfAborted();
    if (writer) writer.commit();
    // Not streamed (a small body, or a store without a writer): the whole list in one put.
    else await store.put(key, got.chunks, { ...opts, size: got.size });
    return { ...got, accepted };
  } catch (err) {
    writer?.abort();
    throw err;
  }
}

/** The first `n` bytes of a chunk list (fewer when it is shorter), copying only when the first chunk is short. */
export function headOf(chunks: readonly Buffer[], n: number): Buffer {
  const first = chunks[0] ?? Buffer.alloc(0);
  if (first.length >= n || chunks.length <= 1) return first.subarray(0, n);
  const parts: Buffer[] = [];
  let got = 0;
  for (const c of chunks) {
    if (got >= n) break;
    parts.push(c);
    got += c.length;
  }
  return Buffer.concat(parts, Math.min(got, n));
}

/** The last `n` bytes of a chunk list (fewer when it is shorter), copying only when the last chunk is short. */
export function tailOf(chunks: readonly Buffer[], n: number): Buffer {
  const last = chunks[chunks.length - 1] ?? Buffer.alloc(0);
  if (last.length >= n || chunks.length <= 1) return last.subarray(Math.max(0, last.length - n));
  const parts: Buffer[] = [];
  let got = 0;
  for (let i = chunks.length - 1; i >= 0 && got < n; i--) {
    parts.unshift(chunks[i]!);
    got += chunks[i]!.length;
  }
  const all = Buffer.concat(parts, got);
  return all.subarray(Math.max(0, got - n));
}
