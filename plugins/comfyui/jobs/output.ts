/**
 * A video output of ComfyUI (GET /view) streamed into the task's work folder, where it is
 * re-encoded and probed: an LTX clip at 1280x720x257 is tens of MB, which needs not sit in
 * memory whole. (Images go to the artifact store through view-store.ts, written chunk by
 * chunk synchronously as they arrive.)
 *
 * A body cut mid-transfer means ComfyUI went away: a retryable GPU_ERROR (comfyui_lost), the
 * same as a socket lost during the run. A local write failure stays what it is.
 */
import fs from "node:fs";
import { pipeline } from "node:stream/promises";
import { comfyLost, type ComfyFileRef } from "../client/index.ts";
import type { ComfyInstance } from "../runtime/instance.ts";

export async function saveOutput(instance: ComfyInstance, file: ComfyFileRef, dest: string, signal?: AbortSignal): Promise<void> {
  const { body } = await instance.client.viewStream(file);
  let sourceError: unknown;
  body.once("error", (e) => (sourceError = e));
  try {
    await pipeline(body, fs.createWriteStream(dest), signal ? { signal } : {});
  } catch (err) {
    if (sourceError !== undefined && !signal?.aborted) {
      throw comfyLost(
        instance.client.baseUrl,
        `GET /view of ${file.filename} broke off: ${sourceError instanceof Error ? sourceError.message : String(sourceError)}`,
      );
    }
    throw err;
  }
}
