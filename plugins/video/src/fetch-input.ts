/** Fetching request inputs (artifact keys) into the task's folder. */
import path from "node:path";
import { assertSafeKey } from "../../../core/artifact-store.ts";
import { FarmError, validation } from "../../../core/errors.ts";
import type { TaskContext } from "../../../core/plugin-contract.ts";

/**
 * Download artifact `key` into `dir` as `<name><ext of key>` (the extension helps ffprobe
 * pick the image demuxer). A missing or malformed key is VALIDATION_ERROR on `field`.
 */
export async function fetchInput(ctx: TaskContext, key: string, field: string, dir: string, name: string): Promise<string> {
  try {
    assertSafeKey(key);
  } catch {
    throw validation(field, "artifact key", `${field}: '${key}' is not a valid artifact key`);
  }
  const ext = path
    .extname(key)
    .toLowerCase()
    .replace(/[^.a-z0-9]/g, "")
    .slice(0, 8);
  const file = path.join(dir, `${name}${ext}`);
  if (!(await ctx.artifacts.stat(key))) throw validation(field, "exists", `${field}: artifact '${key}' not found`);
  try {
    await ctx.artifacts.getToFile(key, file);
  } catch (err) {
    if (err instanceof FarmError && err.code === "NOT_FOUND") throw validation(field, "exists", `${field}: artifact '${key}' not found`);
    throw err;
  }
  return file;
}
