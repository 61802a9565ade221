/** Local-filesystem artifact store (embedded mode): keys map to files under one root. */
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import crypto from "node:crypto";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { assertSafeKey, type ArtifactInfo, type ArtifactStore, type ByteRange, type PutOptions } from "../artifact-store.ts";
import { FarmError } from "../errors.ts";

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
  constructor(readonly root: string) {
    fs.mkdirSync(root, { recursive: true });
    this.realRoot = fs.realpathSync(root);
  }

  private file(key: string): string {
    assertSafeKey(key);
    return path.join(this.root, key);
  }

  private inside(real: string): boolean {
    return real === this.realRoot || real.startsWith(this.realRoot + path.sep);
  }

  /** The real path of a key's file when it is a regular file inside the root, else null. */
  private async realFile(key: string): Promise<string | null> {
    let real: string;
    try { real = await fsp.realpath(this.file(key)); } catch { return null; }
    if (!this.inside(real)) return null;
    const st = await fsp.lstat(real).catch(() => null);
    return st?.isFile() ? real : null;
  }

  /** Creates the key's folder and refuses it when a symlinked folder leads out of the root. */
  private async writableTarget(key: string): Promise<string> {
    const target = this.file(key);
    await fsp.mkdir(path.dirname(target), { recursive: true });
    const dir = await fsp.realpath(path.dirname(target));
    if (!this.inside(dir)) throw new FarmError("VALIDATION_ERROR", `artifact key '${key}' leads outside the store`, { field: "key", constraint: "inside_store" });
    const existing = await fsp.lstat(target).catch(() => null);
    // rename() would replace a symlink rather than write through it, but a key that is a
    // symlink was not made by this store: refuse it instead of silently swapping it.
    if (existing?.isSymbolicLink()) throw new FarmError("VALIDATION_ERROR", `artifact key '${key}' is a symlink`, { field: "key", constraint: "regular_file" });
    return path.join(dir, path.basename(target));
  }

  async put(key: string, body: Buffer | Readable, opts: PutOptions = {}): Promise<ArtifactInfo> {
    const target = await this.writableTarget(key);
    // Write to a temp name then rename, so readers never see a half-written file.
    const tmp = `${target}.${crypto.randomBytes(6).toString("hex")}.part`;
    try {
      if (Buffer.isBuffer(body)) await fsp.writeFile(tmp, body);
      else await pipeline(body, fs.createWriteStream(tmp));
      await fsp.rename(tmp, target);
    } catch (err) {
      await fsp.rm(tmp, { force: true });
      throw err;
    }
    if (opts.contentType) {
      // Also temp + rename: writeFile on an existing `.meta` symlink would write through it.
      const metaTmp = `${target}.meta.${crypto.randomBytes(6).toString("hex")}.part`;
      await fsp.writeFile(metaTmp, JSON.stringify({ contentType: opts.contentType }), { flag: "wx" })
        .then(() => fsp.rename(metaTmp, `${target}.meta`))
        .catch(() => fsp.rm(metaTmp, { force: true }));
    }
    const st = await fsp.stat(target);
    return { key, size: st.size, contentType: opts.contentType, modifiedAt: st.mtimeMs };
  }

  async putFile(key: string, filePath: string, contentType?: string): Promise<ArtifactInfo> {
    return this.put(key, fs.createReadStream(filePath), { contentType });
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
      } catch { /* no sidecar */ }
      return { key, size: st.size, contentType, modifiedAt: st.mtimeMs };
    } catch {
      return null;
    }
  }

  async delete(key: string): Promise<void> {
    const f = this.file(key);
    await fsp.rm(f, { force: true });
    await fsp.rm(`${f}.meta`, { force: true });
  }

  async list(prefix: string): Promise<ArtifactInfo[]> {
    const out: ArtifactInfo[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries: fs.Dirent[];
      try { entries = await fsp.readdir(dir, { withFileTypes: true }); } catch { return; }
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
}

export const bufferToStream = (b: Buffer) => Readable.from(b);
