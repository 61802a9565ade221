/** Local-filesystem artifact store (embedded mode): keys map to files under one root. */
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import crypto from "node:crypto";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { assertSafeKey, type ArtifactInfo, type ArtifactStore, type ArtifactWriter, type ByteRange, type PutBody, type PutOptions } from "../artifact-store.ts";
import { FarmError } from "../errors.ts";
import { isInside } from "../path-inside.ts";

/**
 * Content types an extension implies (as the /outputs route serves them): put() writes no
 * `.meta` sidecar when it is given exactly this type, and stat() answers it when a file has none.
 */
const IMPLIED_TYPES: Record<string, string> = {
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".webp": "image/webp",
  ".gif": "image/gif",
  ".mp4": "video/mp4",
  ".webm": "video/webm",
  ".mp3": "audio/mpeg",
  ".wav": "audio/wav",
  ".flac": "audio/flac",
  ".ogg": "audio/ogg",
  ".json": "application/json",
};
/** Buffers up to this size are written synchronously (see putSync). */
const SYNC_PUT_MAX = 1024 * 1024;
/**
 * Temp names: this process's random tag (made once) and a counter. Unique between processes
 * sharing a folder, and "wx" refuses a clash anyway. A randomBytes() per put took 14 µs here
 * (load ~5; the tag and counter 0.35 µs), and 0.17 ms per image job in a profile at load ~5.
 */
const PROCESS_TAG = crypto.randomBytes(6).toString("hex");
let tempCount = 0;
const tempName = (file: string) => `${file}.${PROCESS_TAG}${(tempCount++).toString(36)}.part`;

export const impliedType = (key: string): string | undefined => IMPLIED_TYPES[path.extname(key).toLowerCase()];

/**
 * Names the store keeps for itself: a key's `.meta` sidecar and the `.part` temp files of
 * writes under way (or left by a process that died mid-write). list() never shows them; a key
 * naming one is refused too, else get() served a half-written body (or a sidecar's JSON) by
 * its temp name, and a put() of `x.png.meta` overwrote x.png's type. No producer makes such a
 * key: outputs and uploads end in their media's extension (`.png`, `.mp4`, upload types);
 * the one way in was a path input inside the store (api/inputs/safe-path.ts outputKeyOfPath).
 */
export const isStoreInternalName = (key: string): boolean => key.endsWith(".meta") || key.endsWith(".part");

/** Errors of link(2) after which a copy still works: another file system, no right to link it, too many links, no links here. */
const LINK_REFUSED = new Set(["EXDEV", "EPERM", "EACCES", "EMLINK", "ENOTSUP", "EOPNOTSUPP", "ENOSYS"]);

/**
 * link(2) `existing` as `created`, kept only when `created` is then the file `expect` names:
 * link(2) does not follow a symlink at `existing` (it links the symlink itself), and a file
 * swapped in under that name since it was opened is another inode. Its stats, or undefined
 * with nothing left at `created` when the link was refused in a way a copy gets round
 * (LINK_REFUSED) or names another file; any other error throws.
 */
export function linkSameFile(
  existing: string,
  created: string,
  expect: { dev: number; ino: number },
  link: (existing: string, created: string) => void = fs.linkSync,
): fs.Stats | undefined {
  try {
    link(existing, created);
  } catch (err) {
    if (LINK_REFUSED.has((err as NodeJS.ErrnoException).code ?? "")) return undefined;
    throw err;
  }
  const st = fs.lstatSync(created);
  if (st.isFile() && st.ino === expect.ino && st.dev === expect.dev) return st;
  fs.rmSync(created, { force: true });
  return undefined;
}

/** Buffers per writev call: Linux's IOV_MAX (libuv writes at most that many at once). */
const IOV_MAX = 1024;
const byteLength = (chunks: readonly Buffer[]) => chunks.reduce((n, c) => n + c.length, 0);

/** What is left of `list` after its first `n` bytes were written: whole buffers dropped, the one cut kept from where it stopped. */
function unwritten(list: readonly Buffer[], n: number): Buffer[] {
  // A write that takes nothing would loop for ever; the kernel reports a full disk as ENOSPC instead.
  if (n <= 0) throw new Error("write() took no bytes");
  let i = 0;
  while (i < list.length && n >= list[i]!.length) n -= list[i++]!.length;
  return i < list.length && n > 0 ? [list[i]!.subarray(n), ...list.slice(i + 1)] : list.slice(i);
}

/**
 * All of `chunks` into fd, in order, with writev (at most IOV_MAX buffers a call): a regular
 * file's write can still be short (a signal, a full disk's last bytes), so what was not
 * written goes out again from where it stopped.
 */
export function writeAllSync(fd: number, chunks: readonly Buffer[]): void {
  let list = chunks.filter((c) => c.length > 0);
  while (list.length > 0) {
    const batch = list.slice(0, IOV_MAX);
    list = unwritten(list, batch.length === 1 ? fs.writeSync(fd, batch[0]!) : fs.writevSync(fd, batch));
  }
}

async function writeAll(fh: fsp.FileHandle, chunks: readonly Buffer[]): Promise<void> {
  let list = chunks.filter((c) => c.length > 0);
  while (list.length > 0) list = unwritten(list, (await fh.writev(list.slice(0, IOV_MAX))).bytesWritten);
}

/**
 * Keys are checked for `..`, but a symlink inside the root (placed by an operator, a
 * compromised tool, or a plugin) would still lead out of it: `outputs/leak.txt -> /etc/passwd`
 * or `outputs/etcdir -> /etc` made `GET /outputs/...` serve any file the process can read.
 * So every read resolves the real path and serves only a regular file whose real path is
 * inside the real root, and every write refuses a parent folder that resolves outside it.
 * The store itself never creates symlinks (temp file + rename).
 */
export class FsArtifactStore implements ArtifactStore {
  readonly kind = "fs";
  /** The root with its own symlinks resolved (a data dir under a symlinked /tmp is fine). */
  private readonly realRoot: string;
  /**
   * `link`: link(2), injectable so that tests can take the copy path a link across file
   * systems (EXDEV) leads to, which one temp folder cannot show.
   */
  constructor(
    readonly root: string,
    private readonly link: (existing: string, created: string) => void = fs.linkSync,
  ) {
    fs.mkdirSync(root, { recursive: true });
    this.realRoot = fs.realpathSync(root);
  }

  private file(key: string): string {
    assertSafeKey(key);
    return path.join(this.root, key);
  }

  /** The real path of a key's file when it is a regular file inside the root, else null. */
  private async realFile(key: string): Promise<string | null> {
    if (isStoreInternalName(key)) return null;
    let real: string;
    try {
      real = await fsp.realpath(this.file(key));
    } catch {
      return null;
    }
    if (!isInside(this.realRoot, real)) return null;
    const st = await fsp.lstat(real).catch(() => null);
    return st?.isFile() ? real : null;
  }

  /**
   * The key's real file path, its folder made when missing; refuses a folder that a symlink
   * leads out of the root and a key that is itself a symlink. `existed`: the key has a file now.
   * The folder's realpath and the key's lstat go out together, and mkdir only when the folder
   * is missing: one filesystem round trip for the usual put instead of three in a row (every
   * output's put is on its job's critical path; bench/comfyui.bench.ts).
   */
  private async writableTarget(key: string): Promise<{ target: string; existed: boolean }> {
    const target = this.file(key);
    const parent = path.dirname(target);
    const [dir, existing] = await Promise.all([
      fsp.realpath(parent).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== "ENOENT") throw err;
        await fsp.mkdir(parent, { recursive: true });
        return fsp.realpath(parent);
      }),
      fsp.lstat(target).catch(() => null),
    ]);
    return this.checkedTarget(key, target, dir, existing);
  }

  /** writableTarget() without the round trips, for a small put done in one go. */
  private writableTargetSync(key: string): { target: string; existed: boolean } {
    const target = this.file(key);
    const parent = path.dirname(target);
    let dir: string;
    // .native: one realpath(3) call, as fsp.realpath in the async path, instead of the JS
    // version's lstat per path component (10-20 us less CPU per put here).
    try {
      dir = fs.realpathSync.native(parent);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      fs.mkdirSync(parent, { recursive: true });
      dir = fs.realpathSync.native(parent);
    }
    return this.checkedTarget(key, target, dir, fs.lstatSync(target, { throwIfNoEntry: false }) ?? null);
  }

  private checkedTarget(key: string, target: string, dir: string, existing: fs.Stats | null): { target: string; existed: boolean } {
    if (isStoreInternalName(key))
      throw new FarmError("VALIDATION_ERROR", `artifact key '${key}' ends in a name the store keeps for itself (.meta, .part)`, {
        field: "key",
        constraint: "not_reserved",
      });
    if (!isInside(this.realRoot, dir))
      throw new FarmError("VALIDATION_ERROR", `artifact key '${key}' leads outside the store`, { field: "key", constraint: "inside_store" });
    // rename() would replace a symlink rather than write through it, but a key that is a
    // symlink was not made by this store: refuse it instead of silently swapping it.
    if (existing?.isSymbolicLink()) throw new FarmError("VALIDATION_ERROR", `artifact key '${key}' is a symlink`, { field: "key", constraint: "regular_file" });
    return { target: path.join(dir, path.basename(target)), existed: existing !== null };
  }

  async put(key: string, body: PutBody, opts: PutOptions = {}): Promise<ArtifactInfo> {
    const chunks = Buffer.isBuffer(body) ? [body] : Array.isArray(body) ? (body as readonly Buffer[]) : null;
    const size = chunks ? byteLength(chunks) : undefined;
    if (chunks && size! <= SYNC_PUT_MAX) return this.putSync(key, chunks, opts);
    const { target, existed } = await this.writableTarget(key);
    // A content type the extension implies needs no `.meta` sidecar (stat infers it): one
    // file write and rename fewer for every image and video output.
    const sidecar = opts.contentType !== undefined && opts.contentType !== impliedType(key);
    // An overwrite without a sidecar must not keep an older put's one (another type); removed
    // while the new bytes are written, not after.
    const staleMeta = !sidecar && existed ? fsp.rm(`${target}.meta`, { force: true }).catch(() => {}) : undefined;
    // Write to a temp name then rename, so readers never see a half-written file.
    const tmp = tempName(target);
    try {
      if (chunks) {
        const fh = await fsp.open(tmp, "wx");
        try {
          await writeAll(fh, chunks);
        } finally {
          await fh.close();
        }
      } else await pipeline(body as Readable, fs.createWriteStream(tmp));
      await fsp.rename(tmp, target);
    } catch (err) {
      await Promise.all([fsp.rm(tmp, { force: true }), staleMeta]);
      throw err;
    }
    if (sidecar) {
      // Also temp + rename: writeFile on an existing `.meta` symlink would write through it.
      const metaTmp = tempName(`${target}.meta`);
      await fsp
        .writeFile(metaTmp, JSON.stringify({ contentType: opts.contentType }), { flag: "wx" })
        .then(() => fsp.rename(metaTmp, `${target}.meta`))
        .catch(() => fsp.rm(metaTmp, { force: true }));
    }
    await staleMeta;
    // A buffer's size is known: no stat after the write (the file's mtime is this moment).
    if (size !== undefined) return { key, size, contentType: opts.contentType, modifiedAt: Date.now() };
    const st = await fsp.stat(target);
    return { key, size: st.size, contentType: opts.contentType, modifiedAt: st.mtimeMs };
  }

  /**
   * put() of a small buffer (or list of buffers) in one synchronous go: the same checks, temp
   * file, rename and sidecar rule, without six thread-pool round trips, each of which waits for
   * a busy event loop to come back to it. Writing 0.7 MB into the page cache blocks the loop
   * ~0.2 ms; the async path took 1.0 ms idle and 1.8-4.4 ms inside a loaded farm (scratch
   * measurements, BENCHMARKS.md "comfyui"). Above ~1 MB a write took 2-5 ms (p99 15 ms) on this
   * machine: bigger bodies stay async so one output never stalls the loop for long. A list is
   * written with writev, not copied into one buffer first.
   */
  private putSync(key: string, chunks: readonly Buffer[], opts: PutOptions): ArtifactInfo {
    const w = this.open(key, opts);
    try {
      w.writev(chunks);
      return w.commit();
    } catch (err) {
      w.abort();
      throw err;
    }
  }

  /**
   * A put written as its bytes arrive (ArtifactWriter), for a body bigger than putSync takes
   * or of unknown size; undefined when `opts.size` says putSync will write it (put() the chunks
   * then). Measured with /view of ComfyUI stand-in PNGs (scratch, both ways alternated at load
   * 4-7 on 2 cores): a 512² PNG (0.7 MB) gathered and written with one writev cost 2.9 ms CPU
   * per fetch against 3.6 written chunk by chunk (the farm reads the socket as fast as it can,
   * so there is no idle time between chunks to hide the writes in; 11 writes cost more than
   * one); a 1024² PNG (~3 MB, above putSync's limit) written chunk by chunk as it came cost
   * 7.6 ms CPU and 9.7 ms wall p50, against 9.7 / 12.7 ms gathered and written asynchronously.
   * Each write() is one network chunk (tens of KB): the loop is never held for long.
   */
  writer(key: string, opts: PutOptions = {}): ArtifactWriter | undefined {
    if (opts.size !== undefined && opts.size <= SYNC_PUT_MAX) return undefined;
    return this.open(key, opts);
  }

  /** The key checked, its temp file opened; writes append, commit renames (putSync and writer). */
  private open(key: string, opts: PutOptions): ArtifactWriter & { writev(chunks: readonly Buffer[]): void } {
    const { target, existed } = this.writableTargetSync(key);
    const tmp = tempName(target);
    let fd: number | null = fs.openSync(tmp, "wx");
    let size = 0;
    let state: "open" | "committed" | "aborted" = "open";
    const closeFd = () => {
      if (fd === null) return;
      const f = fd;
      fd = null;
      fs.closeSync(f);
    };
    const writev = (chunks: readonly Buffer[]) => {
      if (state !== "open" || fd === null) throw new Error(`artifact writer for '${key}' is ${state}`);
      writeAllSync(fd, chunks);
      size += byteLength(chunks);
    };
    return {
      writev,
      write: (chunk) => writev([chunk]),
      commit: () => {
        if (state !== "open") throw new Error(`artifact writer for '${key}' is ${state}`);
        closeFd();
        fs.renameSync(tmp, target);
        state = "committed";
        this.settleSidecar(target, existed, opts);
        return { key, size, contentType: opts.contentType, modifiedAt: Date.now() };
      },
      abort: () => {
        if (state !== "open") return;
        state = "aborted";
        // Never throws: abort runs while the caller handles another error (a cut body, a
        // deadline, ENOSPC), and that error is the one to report: a cleanup failure thrown
        // here (EROFS once a file system is remounted read-only) replaced a retryable
        // comfyui_lost. A temp file left behind is neither listed nor served
        // (isStoreInternalName); the retention sweep removes it an hour later (sweepTemp).
        try {
          closeFd();
        } catch {
          /* the descriptor is released either way */
        }
        try {
          fs.rmSync(tmp, { force: true });
        } catch {
          /* left as a .part, see above */
        }
      },
    };
  }

  async putFile(key: string, filePath: string, contentType?: string): Promise<ArtifactInfo> {
    return this.put(key, fs.createReadStream(filePath), { contentType });
  }

  linkFile(key: string, filePath: string, expect: { dev: number; ino: number }, opts: PutOptions = {}): ArtifactInfo | undefined {
    const { target, existed } = this.writableTargetSync(key);
    const tmp = tempName(target);
    const st = linkSameFile(filePath, tmp, expect, this.link);
    if (!st) return undefined;
    try {
      fs.renameSync(tmp, target);
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      throw err;
    }
    this.settleSidecar(target, existed, opts);
    return { key, size: st.size, contentType: opts.contentType, modifiedAt: Date.now() };
  }

  /** After a key's bytes were renamed into place: its `.meta` sidecar written when the extension does not imply its type, else an older one removed (best effort, as the async path). */
  private settleSidecar(target: string, existed: boolean, opts: PutOptions): void {
    if (opts.contentType !== undefined && opts.contentType !== impliedType(target)) {
      const metaTmp = tempName(`${target}.meta`);
      try {
        fs.writeFileSync(metaTmp, JSON.stringify({ contentType: opts.contentType }), { flag: "wx" });
        fs.renameSync(metaTmp, `${target}.meta`);
      } catch {
        fs.rmSync(metaTmp, { force: true });
      }
    } else if (existed) {
      try {
        fs.rmSync(`${target}.meta`, { force: true });
      } catch {
        /* best effort */
      }
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const real = await this.realFile(key);
    if (!real) throw new FarmError("NOT_FOUND", `artifact '${key}' not found`, { field: "key", constraint: "exists" });
    // O_NOFOLLOW: the real path has no symlink left; one swapped in since is refused, not followed.
    const handle = await fsp.open(real, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW).catch(() => null);
    if (!handle) throw new FarmError("NOT_FOUND", `artifact '${key}' not found`, { field: "key", constraint: "exists" });
    return handle.createReadStream(range ? { start: range.start, end: range.end } : {});
  }

  async getToFile(key: string, filePath: string): Promise<void> {
    await pipeline(await this.get(key), fs.createWriteStream(filePath));
  }

  async stat(key: string): Promise<ArtifactInfo | null> {
    const f = await this.realFile(key);
    if (!f) return null;
    try {
      const st = await fsp.stat(f);
      let contentType: string | undefined;
      try {
        contentType = (JSON.parse(await fsp.readFile(`${f}.meta`, "utf8")) as { contentType?: string }).contentType;
      } catch {
        contentType = impliedType(key); // no sidecar: put() writes none when the extension says it
      }
      return { key, size: st.size, contentType, modifiedAt: st.mtimeMs };
    } catch {
      return null;
    }
  }

  async delete(key: string): Promise<void> {
    const f = this.file(key);
    if (isStoreInternalName(key)) return; // not an artifact (a sidecar goes with its key)
    // Sidecar first: a crash in between leaves a file without one, never a sidecar without its
    // file (put() removes an older sidecar only when the key's file exists).
    await fsp.rm(`${f}.meta`, { force: true });
    await fsp.rm(f, { force: true });
  }

  async list(prefix: string): Promise<ArtifactInfo[]> {
    const out: ArtifactInfo[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries: fs.Dirent[];
      try {
        entries = await fsp.readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const full = path.join(dir, e.name);
        // Dirent types come from lstat: symlinks (to files or folders) are neither, so skipped.
        if (e.isDirectory()) await walk(full);
        else if (e.isFile() && !e.name.endsWith(".meta") && !e.name.endsWith(".part")) {
          const key = path.relative(this.root, full).split(path.sep).join("/");
          if (key.startsWith(prefix)) {
            const st = await fsp.stat(full);
            out.push({ key, size: st.size, modifiedAt: st.mtimeMs });
          }
        }
      }
    };
    await walk(this.root);
    return out;
  }

  /**
   * Removes `.part` temp files last written before `cutoffMs` (epoch ms): those of a process
   * that died mid-write (abort() never ran), invisible to list() and so to retention, which
   * filled the disk unseen. The retention sweeper calls it with now - TEMP_ORPHAN_AGE_MS (retention.ts).
   */
  async sweepTemp(cutoffMs: number): Promise<{ deleted: number; bytes: number }> {
    const res = { deleted: 0, bytes: 0 };
    const walk = async (dir: string): Promise<void> => {
      const entries = await fsp.readdir(dir, { withFileTypes: true }).catch(() => [] as fs.Dirent[]);
      for (const e of entries) {
        const full = path.join(dir, e.name);
        if (e.isDirectory()) await walk(full);
        else if (e.isFile() && e.name.endsWith(".part")) {
          const st = await fsp.lstat(full).catch(() => null);
          if (!st || st.mtimeMs >= cutoffMs) continue;
          // A writer that finished meanwhile renamed it away: ENOENT is fine, not a failure.
          if (
            await fsp.rm(full).then(
              () => true,
              () => false,
            )
          ) {
            res.deleted++;
            res.bytes += st.size;
          }
        }
      }
    };
    await walk(this.root);
    return res;
  }
}

export const bufferToStream = (b: Buffer) => Readable.from(b);
