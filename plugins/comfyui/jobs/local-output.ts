/**
 * ComfyUI's outputs taken from its output folder on this machine instead of GET /view, when
 * the agent knows that folder (a supervised server's --output-directory, or an attached one's
 * `output_dir`). The image job's /view was the largest part of what the farm added to a
 * generation beyond a direct client (~5 ms to the headers and ~2 ms body + write for a 512²
 * PNG, BENCHMARKS.md "comfyui"); from disk the PNG is hard-linked into the artifact store
 * (no byte copied) or copied, and an LTX clip of tens of MB is not streamed over HTTP.
 *
 * The file is found as ComfyUI's server.py /view finds it (filename with an optional
 * " [output]" annotation, subfolder, type): the same names, so the same file. A name that
 * escapes the folder ('..', absolute, a subfolder outside it) is refused (comfyui_bad_output)
 * and not fetched at all. A type other than "output" (temp previews, inputs), a file not there
 * or not a plain file (a symlink is not followed, nor one leading out of the folder): the job
 * uses /view as before, whose answer (or error) is ComfyUI's own.
 *
 * Trust: a wrong `output_dir` (another server's folder) could hold a file of the same name, so
 * the first output of each life of an instance is fetched through /view too and compared with
 * the file: equal bytes, and the instance's outputs are read from disk for that life; a
 * mismatch or a miss turns it off for that life with a warning (re-checked after a restart).
 */
import fs from "node:fs";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { FarmError } from "../../../core/errors.ts";
import { isInside } from "../../../core/path-inside.ts";
import type { ArtifactStore, PutOptions } from "../../../core/artifact-store.ts";
import { linkSameFile } from "../../../core/artifacts/fs-store.ts";
import type { Logger } from "../../../core/logger.ts";
import type { ComfyFileRef } from "../client/index.ts";
import { VIEW_MAX_BYTES } from "../client/client.ts";
import type { ComfyInstance } from "../runtime/instance.ts";
import { viewIntoStore } from "./view-store.ts";

/** An output file opened on disk (read through `fd`; its name is only used to link it). */
export interface LocalFile {
  path: string;
  fd: number;
  size: number;
  dev: number;
  ino: number;
}

/** Bodies up to this size are read whole and put in one go (the fs store writes them synchronously). */
const READ_WHOLE_MAX = 1024 * 1024;

/** The real path of `p` (symlinks resolved), or undefined when it does not exist. */
function realOrNone(p: string): string | undefined {
  try {
    return fs.realpathSync(p);
  } catch {
    return undefined;
  }
}

/**
 * ComfyUI's output `ref` under `outputDir`, as server.py's /view resolves it. `refused`: a
 * name that escapes the folder ('..', absolute, a subfolder outside it: /view answers those
 * 400/403 too), never fetched; `why`: not taken from here, the job uses /view (a symlink that
 * leads out of the folder among them: ComfyUI follows symlinks, and studios link an output
 * subfolder to another disk; the agent does not read through one, /view serves what ComfyUI
 * serves).
 */
export function openLocalOutput(outputDir: string, ref: ComfyFileRef): { file: LocalFile } | { why: string } | { refused: string } {
  let name = ref.filename;
  let type = ref.type || "output";
  // folder_paths.annotated_filepath: "name [output]" names the output folder whatever the type.
  if (name.endsWith("[output]")) {
    name = name.slice(0, -9);
    type = "output";
  } else if (name.endsWith("[input]") || name.endsWith("[temp]")) return { why: "not in the output folder" };
  if (!name || name.startsWith("/") || name.includes("..")) return { refused: "a name /view refuses ('..' or absolute)" };
  if (type !== "output") return { why: `type '${type}' is not the output folder` };
  const root = path.resolve(outputDir);
  const dir = path.resolve(root, ref.subfolder ?? "");
  if (!isInside(root, dir)) return { refused: "a subfolder outside the output folder" };
  const file = path.join(dir, path.basename(name));
  // A symlinked subfolder or file could lead out of the folder although the names stay in it.
  const realRoot = realOrNone(root);
  const real = realOrNone(file) ?? realOrNone(dir);
  if (realRoot && real && !isInside(realRoot, real)) return { why: "a symlink leading out of the output folder" };
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch (err) {
    return { why: `${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}` };
  }
  const st = fs.fstatSync(fd);
  if (!st.isFile()) {
    fs.closeSync(fd);
    return { why: `${file} is not a plain file` };
  }
  return { file: { path: file, fd, size: st.size, dev: st.dev, ino: st.ino } };
}

/** `n` bytes at `at` (fewer at the end of the file). */
function pread(fd: number, at: number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  let got = 0;
  while (got < n) {
    const r = fs.readSync(fd, b, got, n - got, at + got);
    if (r === 0) break;
    got += r;
  }
  return got === n ? b : b.subarray(0, got);
}

export const readWhole = (f: LocalFile): Buffer => pread(f.fd, 0, f.size);

/**
 * A local output into the store under `key`: checked by `accept` (given the file's first 24
 * and last 12 bytes, or the whole file when it is tiny), then hard-linked (stores with
 * linkFile, same file system), else put: read whole up to 1 MiB, streamed above. A cancel
 * before it is published publishes nothing.
 */
export async function localIntoStore<T>(
  f: LocalFile,
  store: ArtifactStore,
  key: string,
  opts: PutOptions,
  accept: (chunks: readonly Buffer[], size: number) => T,
  signal?: AbortSignal,
): Promise<{ accepted: T; whole?: Buffer }> {
  if (f.size > VIEW_MAX_BYTES)
    throw new FarmError("MODEL_ERROR", `ComfyUI's output ${f.path} has ${f.size} bytes, over ${VIEW_MAX_BYTES}: not taken`, {
      reason: "comfyui_output_too_large",
      max_bytes: VIEW_MAX_BYTES,
    });
  let whole = f.size <= 64 ? readWhole(f) : undefined;
  const accepted = accept(whole ? [whole] : [pread(f.fd, 0, 24), pread(f.fd, f.size - 12, 12)], f.size);
  signal?.throwIfAborted();
  if (store.linkFile?.(key, f.path, f, { ...opts, size: f.size })) return { accepted, whole };
  if (f.size <= READ_WHOLE_MAX) {
    whole ??= readWhole(f);
    await store.put(key, [whole], { ...opts, size: whole.length });
  } else await store.put(key, fs.createReadStream("", { fd: f.fd, autoClose: false, start: 0 }), { ...opts, size: f.size });
  return { accepted, whole };
}

/** A local output into a file of the task's work folder (videos): a hard link when it can be, else a copy. */
export async function localIntoFile(f: LocalFile, dest: string, signal?: AbortSignal): Promise<void> {
  try {
    if (linkSameFile(f.path, dest, f)) return;
  } catch {
    // Any link failure here still leaves the copy (a work file, not an artifact).
    fs.rmSync(dest, { force: true });
  }
  await pipeline(fs.createReadStream("", { fd: f.fd, autoClose: false, start: 0 }), fs.createWriteStream(dest), signal ? { signal } : {});
}

/** Whether this instance's outputs are read from disk now: "unverified" until its first output of this life was compared. */
export function localMode(inst: ComfyInstance): "verified" | "off" | "unverified" | "none" {
  if (!inst.outputDir) return "none";
  const l = inst.localOutputs;
  return l && l.life === inst.life ? l.state : "unverified";
}

/** Records the comparison of this life's first output (or a miss of a verified one), logged once per change. */
export function settleLocal(inst: ComfyInstance, ok: boolean, reason: string, logger: Logger): void {
  const state = ok ? "verified" : "off";
  if (localMode(inst) === state) return;
  inst.localOutputs = { life: inst.life, state, reason };
  if (ok) logger.info("comfyui: outputs are read from disk", { instance: inst.label, output_dir: inst.outputDir });
  else logger.warn("comfyui: outputs come over HTTP (/view), not from output_dir", { instance: inst.label, output_dir: inst.outputDir, reason });
}

/** Whether the file holds exactly these bytes. */
export function sameBytes(f: LocalFile, chunks: readonly Buffer[], size: number): boolean {
  if (f.size !== size) return false;
  let at = 0;
  for (const c of chunks) {
    if (!pread(f.fd, at, c.length).equals(c)) return false;
    at += c.length;
  }
  return true;
}

/** Whether two files hold the same bytes, read in 1 MiB pieces (once per life, for videos). */
export function sameFile(f: LocalFile, other: string): boolean {
  const fd = fs.openSync(other, "r");
  try {
    if (fs.fstatSync(fd).size !== f.size) return false;
    for (let at = 0; at < f.size; at += READ_WHOLE_MAX) {
      const n = Math.min(READ_WHOLE_MAX, f.size - at);
      if (!pread(f.fd, at, n).equals(pread(fd, at, n))) return false;
    }
    return true;
  } finally {
    fs.closeSync(fd);
  }
}

/** Opens the local file for `ref` when the instance has an output folder, noting a miss of a verified one. */
export function localFor(inst: ComfyInstance, ref: ComfyFileRef, logger: Logger): LocalFile | undefined {
  const mode = localMode(inst);
  if (mode === "none" || mode === "off") return undefined;
  const got = openLocalOutput(inst.outputDir!, ref);
  if ("file" in got) return got.file;
  if ("refused" in got)
    throw new FarmError("MODEL_ERROR", `ComfyUI named an output outside its output folder (${ref.subfolder ?? ""}/${ref.filename}): ${got.refused}`, {
      reason: "comfyui_bad_output",
    });
  // Not here (a wrong folder, a temp preview, a symlink out): this life uses /view.
  settleLocal(inst, false, `${ref.filename}: ${got.why}`, logger);
  return undefined;
}

/**
 * An image output into the store: from disk when this life's outputs were verified, else
 * through /view (view-store.ts), comparing the first one of a life with the file on disk.
 * `wantBytes`: the body is returned too (image_base64).
 */
export async function outputIntoStore<T>(
  inst: ComfyInstance,
  ref: ComfyFileRef,
  store: ArtifactStore,
  key: string,
  opts: PutOptions,
  accept: (chunks: readonly Buffer[], size: number) => T,
  ctx: { logger: Logger; signal?: AbortSignal },
  wantBytes: boolean,
): Promise<{ accepted: T; bytes?: Buffer }> {
  const local = localFor(inst, ref, ctx.logger);
  try {
    if (local && localMode(inst) === "verified") {
      const got = await localIntoStore(local, store, key, opts, accept, ctx.signal);
      return { accepted: got.accepted, bytes: wantBytes ? (got.whole ?? readWhole(local)) : undefined };
    }
    const got = await viewIntoStore(inst.client, ref, store, key, opts, accept, ctx.signal);
    if (local) settleLocal(inst, sameBytes(local, got.chunks, got.size), `${local.path} differs from /view's answer for ${ref.filename}`, ctx.logger);
    return { accepted: got.accepted, bytes: wantBytes ? Buffer.concat(got.chunks, got.size) : undefined };
  } finally {
    if (local) fs.closeSync(local.fd);
  }
}
