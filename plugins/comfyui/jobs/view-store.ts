/**
 * An image output of ComfyUI (GET /view) into the artifact store, on every image job's
 * critical path between ComfyUI's last message and the farm's answer.
 *
 * With a store that takes bytes as they arrive (the fs store's writer()), each network chunk
 * is written to the key's temp file the moment it comes, while the rest are still on the wire
 * (ComfyUI sends from its own process, so the farm would otherwise wait idle between chunks),
 * and the file is renamed to the key once the whole body is in and accepted. Before, the body
 * was gathered, copied into one buffer and then written, all after the last byte: the copy and
 * the write were ~1.5 ms per job under load (bench/comfyui.bench.ts, BENCHMARKS.md "comfyui").
 * Writes are synchronous, one chunk (tens of KB) at a time; an earlier try that piped /view
 * into an asynchronous fs WriteStream was slower (a thread-pool round trip per chunk).
 * Other stores (S3) get the chunk list once the body is complete (no copy here either).
 *
 * A body cut mid-way, a deadline passed, a non-200 answer or a body `accept` refuses leaves no
 * artifact: the temp file is removed, nothing is published under the key.
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
): Promise<{ chunks: Buffer[]; size: number; accepted: T }> {
  let writer: ArtifactWriter | undefined;
  const open = store.writer ? () => (writer = store.writer!(key, opts)) : undefined;
  try {
    const got = await client.viewChunks(file, open);
    const accepted = accept(got.chunks, got.size);
    if (writer) writer.commit();
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
