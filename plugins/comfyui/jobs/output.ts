/**
 * A video output of ComfyUI (from its output folder on disk, or GET /view) into the task's work folder, where it is
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
import type { Logger } from "../../../core/logger.ts";
import { localFor, localIntoFile, localMode, sameFile, settleLocal } from "./local-output.ts";

export async function saveOutput(instance: ComfyInstance, file: ComfyFileRef, dest: string, signal?: AbortSignal, logger?: Logger): Promise<void> {
  // From ComfyUI's output folder on this machine when the agent reads it (local-output.ts):
  // a hard link or a copy instead of tens of MB over HTTP; the first output of a life is
  // fetched through /view as well and compared.
  const local = logger ? localFor(instance, file, logger) : undefined;
  try {
    if (local && localMode(instance) === "verified") return await localIntoFile(local, dest, signal);
    await viewToFile(instance, file, dest, signal);
    if (local) settleLocal(instance, sameFile(local, dest), `${local.path} differs from /view's answer for ${file.filename}`, logger!);
  } finally {
    if (local) fs.closeSync(local.fd);
  }
}

async function viewToFile(instance: ComfyInstance, file: ComfyFileRef, dest: string, signal?: AbortSignal): Promise<void> {
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
