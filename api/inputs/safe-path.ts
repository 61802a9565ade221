/**
 * Server-path inputs: a request may name a file on the server only inside the farm's
 * data folders (paths.uploads, paths.outputs, paths.cache) and the operator's
 * `paths.allowed_input_dirs`. The check runs twice: on the normalised path (so `..`
 * cannot climb out, and nothing outside is even looked at), then on the real path after
 * following symlinks (so a link inside an allowed folder cannot point outside it).
 */
import fsp from "node:fs/promises";
import path from "node:path";
import { validationAt } from "../../core/errors.ts";
import { isInside } from "../../core/path-inside.ts";
import type { InputDeps } from "./input-deps.ts";

/** The folders a path input may come from. */
export function allowedRoots(paths: InputDeps["paths"]): string[] {
  return [paths.uploads, paths.outputs, paths.cache, ...paths.allowed_input_dirs].map((d) => path.resolve(d));
}

/**
 * Resolve a path input to the real path of a regular file inside an allowed folder.
 * Relative paths resolve against the process's working directory (then face the same check).
 */
export async function resolveServerPath(raw: string, field: string, paths: InputDeps["paths"]): Promise<{ file: string; size: number }> {
  if (raw.includes("\0")) throw validationAt(field, "path", "path contains a NUL byte");
  const lexical = path.resolve(raw);
  const roots = allowedRoots(paths);
  if (!roots.some((r) => isInside(r, lexical))) {
    throw validationAt(
      field,
      "allowed path",
      "path is outside the server's allowed input folders (paths.uploads, paths.outputs, paths.cache, paths.allowed_input_dirs)",
    );
  }
  let real: string;
  try {
    real = await fsp.realpath(lexical);
  } catch {
    throw validationAt(field, "exists", "no such file on the server");
  }
  const realRoots = await Promise.all(roots.map((r) => fsp.realpath(r).catch(() => r)));
  if (!realRoots.some((r) => isInside(r, real))) {
    throw validationAt(field, "allowed path", "path leads (through a symbolic link) outside the server's allowed input folders");
  }
  const st = await fsp.stat(real);
  if (!st.isFile()) throw validationAt(field, "regular file", "path is not a regular file");
  return { file: real, size: st.size };
}

/**
 * The `outputs/` key a resolved server path stands for when it lies inside paths.outputs or
 * the fs store's `<data_dir>/outputs` (so a path input faces the same owner check as the
 * key would), else null.
 */
export async function outputKeyOfPath(realFile: string, paths: InputDeps["paths"]): Promise<string | null> {
  const dirs = [paths.outputs, ...(paths.data_dir ? [path.join(paths.data_dir, "outputs")] : [])];
  for (const dir of dirs) {
    const root = await fsp.realpath(path.resolve(dir)).catch(() => path.resolve(dir));
    if (isInside(root, realFile) && realFile !== root) return `outputs/${path.relative(root, realFile).split(path.sep).join("/")}`;
  }
  return null;
}
