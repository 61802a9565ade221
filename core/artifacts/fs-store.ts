/** Local-filesystem artifact store (embedded mode): keys map to files under one root. */
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import crypto from "node:crypto";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { assertSafeKey, type ArtifactInfo, type ArtifactStore, type ByteRange, type PutOptions } from "../artifact-store.ts";
import { FarmError } from "../errors.ts";

export class FsArtifactStore implements ArtifactStore {
  readonly kind = "fs";
  constructor(readonly root: string) {
    fs.mkdirSync(root, { recursive: true });
  }

  private file(key: string): string {
    assertSafeKey(key);
    return path.join(this.root, key);
  }

  async put(key: string, body: Buffer | Readable, opts: PutOptions = {}): Promise<ArtifactInfo> {
    const target = this.file(key);
    await fsp.mkdir(path.dirname(target), { recursive: true });
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
    if (opts.contentType) await fsp.writeFile(`${target}.meta`, JSON.stringify({ contentType: opts.contentType })).catch(() => {});
    const st = await fsp.stat(target);
    return { key, size: st.size, contentType: opts.contentType, modifiedAt: st.mtimeMs };
  }

  async putFile(key: string, filePath: string, contentType?: string): Promise<ArtifactInfo> {
    return this.put(key, fs.createReadStream(filePath), { contentType });
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const f = this.file(key);
    if (!(await this.stat(key))) throw new FarmError("NOT_FOUND", `artifact '${key}' not found`, { field: "key", constraint: "exists" });
    return fs.createReadStream(f, range ? { start: range.start, end: range.end } : {});
  }

  async getToFile(key: string, filePath: string): Promise<void> {
    await pipeline(await this.get(key), fs.createWriteStream(filePath));
  }

  async stat(key: string): Promise<ArtifactInfo | null> {
    const f = this.file(key);
    try {
      const st = await fsp.stat(f);
      if (!st.isFile()) return null;
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
