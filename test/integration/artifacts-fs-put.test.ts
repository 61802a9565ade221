/**
 * The fs store's put paths (core/artifacts/fs-store.ts): small buffers are written in one
 * synchronous go, large buffers and streams asynchronously, and a content type the key's
 * extension implies is kept without a `.meta` sidecar. Each path keeps the store's safety
 * rules: temp file + rename, no write through a symlinked folder or over a symlinked key.
 */
import { afterAll, beforeAll, describe, it } from "vitest";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { FarmError } from "../../core/errors.ts";
import { FsArtifactStore, impliedType } from "../../core/artifacts/fs-store.ts";

const MiB = 1024 * 1024;
const SIZES = { small: 4096, large: 2 * MiB } as const;

describe("fs artifact store: put paths", () => {
  let root!: string;
  let outside!: string;
  let store!: FsArtifactStore;
  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "nb-fsput-"));
    outside = fs.mkdtempSync(path.join(os.tmpdir(), "nb-fsput-outside-"));
    store = new FsArtifactStore(root);
  });
  afterAll(() => {
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(outside, { recursive: true, force: true });
  });
  const leftovers = (dir: string) => fs.readdirSync(dir).filter((n) => n.endsWith(".part"));

  for (const [label, size] of Object.entries(SIZES)) {
    it(`${label} buffer: an implied type writes no sidecar, stat infers it, and nothing temporary is left`, async () => {
      const key = `outputs/${label}/a.png`;
      const body = crypto.randomBytes(size);
      const before = Date.now();
      const info = await store.put(key, body, { contentType: "image/png" });
      assert.deepEqual({ key: info.key, size: info.size, contentType: info.contentType }, { key, size, contentType: "image/png" });
      assert.ok(info.modifiedAt! >= before && info.modifiedAt! <= Date.now());
      const file = path.join(root, key);
      assert.ok(fs.readFileSync(file).equals(body));
      assert.equal(fs.existsSync(`${file}.meta`), false);
      assert.equal((await store.stat(key))?.contentType, "image/png");
      assert.deepEqual(leftovers(path.dirname(file)), []);
    });

    it(`${label} buffer: another type gets a sidecar; an overwrite with the implied type removes it`, async () => {
      const key = `outputs/${label}/b.png`;
      await store.put(key, crypto.randomBytes(size), { contentType: "image/apng" });
      const file = path.join(root, key);
      assert.equal(JSON.parse(fs.readFileSync(`${file}.meta`, "utf8")).contentType, "image/apng");
      assert.equal((await store.stat(key))?.contentType, "image/apng");
      await store.put(key, crypto.randomBytes(size), { contentType: "image/png" });
      assert.equal(fs.existsSync(`${file}.meta`), false);
      assert.equal((await store.stat(key))?.contentType, "image/png");
      await store.delete(key);
      assert.equal(fs.existsSync(file), false);
      assert.equal(await store.stat(key), null);
    });

    it(`${label} buffer: refused through a symlinked folder and over a symlinked key`, async () => {
      fs.mkdirSync(path.join(root, "outputs"), { recursive: true });
      const dirLink = path.join(root, "outputs", `dir-link-${label}`);
      const keyLink = path.join(root, "outputs", `key-link-${label}.png`);
      fs.writeFileSync(path.join(outside, "secret.png"), "secret");
      fs.symlinkSync(outside, dirLink);
      fs.symlinkSync(path.join(outside, "secret.png"), keyLink);
      await assert.rejects(
        store.put(`outputs/dir-link-${label}/planted.png`, crypto.randomBytes(size)),
        (e: unknown) => e instanceof FarmError && e.details?.constraint === "inside_store",
      );
      assert.equal(fs.existsSync(path.join(outside, "planted.png")), false);
      await assert.rejects(
        store.put(`outputs/key-link-${label}.png`, crypto.randomBytes(size)),
        (e: unknown) => e instanceof FarmError && e.details?.constraint === "regular_file",
      );
      assert.equal(fs.readFileSync(path.join(outside, "secret.png"), "utf8"), "secret");
      assert.ok(fs.lstatSync(keyLink).isSymbolicLink());
    });
  }

  for (const [label, size] of Object.entries(SIZES)) {
    it(`${label} chunk list: written with writev, the same bytes as joined; nothing temporary left`, async () => {
      const key = `outputs/${label}/list.png`;
      const data = crypto.randomBytes(size);
      // A first chunk shorter than a PNG header, an empty one, then socket-sized pieces.
      const chunks = [data.subarray(0, 7), Buffer.alloc(0)];
      for (let off = 7; off < size; off += 65_536) chunks.push(data.subarray(off, Math.min(size, off + 65_536)));
      const info = await store.put(key, chunks, { contentType: "image/png" });
      assert.equal(info.size, size);
      const file = path.join(root, key);
      assert.ok(fs.readFileSync(file).equals(data));
      assert.equal(fs.existsSync(`${file}.meta`), false);
      assert.deepEqual(leftovers(path.dirname(file)), []);
    });

    it(`${label} chunk list: refused through a symlinked folder and over a symlinked key, nothing written outside`, async () => {
      fs.mkdirSync(path.join(root, "outputs"), { recursive: true });
      const dirLink = path.join(root, "outputs", `list-dir-link-${label}`);
      const keyLink = path.join(root, "outputs", `list-key-link-${label}.png`);
      fs.writeFileSync(path.join(outside, "list-secret.png"), "secret");
      fs.symlinkSync(outside, dirLink);
      fs.symlinkSync(path.join(outside, "list-secret.png"), keyLink);
      const chunks = [crypto.randomBytes(size / 2), crypto.randomBytes(size / 2)];
      await assert.rejects(
        store.put(`outputs/list-dir-link-${label}/planted.png`, chunks),
        (e: unknown) => e instanceof FarmError && e.details?.constraint === "inside_store",
      );
      assert.equal(fs.existsSync(path.join(outside, "planted.png")), false);
      await assert.rejects(
        store.put(`outputs/list-key-link-${label}.png`, chunks),
        (e: unknown) => e instanceof FarmError && e.details?.constraint === "regular_file",
      );
      assert.equal(fs.readFileSync(path.join(outside, "list-secret.png"), "utf8"), "secret");
    });

    it(`${label} chunk list: a failed rename (a folder in the key's place) removes the temp file`, async () => {
      const key = `outputs/${label}/taken.png`;
      fs.mkdirSync(path.join(root, key, "inner"), { recursive: true });
      await assert.rejects(store.put(key, [crypto.randomBytes(size / 2), crypto.randomBytes(size / 2)]), (e: NodeJS.ErrnoException) =>
        ["EISDIR", "ENOTEMPTY", "EEXIST"].includes(e.code ?? ""),
      );
      assert.deepEqual(leftovers(path.join(root, `outputs/${label}`)), []);
      assert.ok(fs.statSync(path.join(root, key)).isDirectory());
    });
  }

  it("a chunk list longer than IOV_MAX (1024 buffers a writev) is written whole, in order", async () => {
    const data = crypto.randomBytes(3000 * 100 + 37);
    const chunks: Buffer[] = [];
    for (let off = 0; off < data.length; off += 100) chunks.push(data.subarray(off, off + 100));
    assert.ok(chunks.length > 3000);
    await store.put("outputs/iov/many.bin", chunks);
    assert.ok(fs.readFileSync(path.join(root, "outputs/iov/many.bin")).equals(data));
  });

  it("writer: none for a body of known size put() writes in one go (up to 1 MiB); one for a bigger or unknown size", () => {
    assert.equal(store.writer("outputs/w/small.png", { size: MiB }), undefined);
    assert.equal(store.writer("outputs/w/small.png", { size: 0 }), undefined);
    for (const opts of [{ size: MiB + 1 }, {}]) {
      const w = store.writer("outputs/w/big.png", opts);
      assert.ok(w);
      w.abort();
    }
    assert.deepEqual(leftovers(path.join(root, "outputs/w")), []);
  });

  it("writer: chunks go to a temp file as they come; nothing under the key until commit; commit publishes them", async () => {
    const key = "outputs/w/streamed.png";
    const data = crypto.randomBytes(200_000);
    const w = store.writer(key, { contentType: "image/png" })!;
    const file = path.join(root, key);
    for (let off = 0; off < data.length; off += 65_536) {
      w.write(data.subarray(off, off + 65_536));
      assert.equal(fs.existsSync(file), false);
      assert.equal(leftovers(path.dirname(file)).length, 1);
    }
    const info = w.commit();
    assert.deepEqual({ key: info.key, size: info.size, contentType: info.contentType }, { key, size: data.length, contentType: "image/png" });
    assert.ok(fs.readFileSync(file).equals(data));
    assert.deepEqual(leftovers(path.dirname(file)), []);
    w.abort(); // after commit: nothing to undo
    assert.ok(fs.existsSync(file));
    assert.throws(() => w.write(Buffer.from("late")), /committed/);
    assert.throws(() => w.commit(), /committed/);
  });

  it("writer: abort removes the temp file and leaves an older object under the key as it was; a second abort is harmless", async () => {
    const key = "outputs/w/kept.png";
    await store.put(key, Buffer.from("the earlier object"), { contentType: "image/png" });
    const w = store.writer(key, { contentType: "image/png" })!;
    w.write(crypto.randomBytes(100_000));
    w.abort();
    w.abort();
    assert.equal(fs.readFileSync(path.join(root, key), "utf8"), "the earlier object");
    assert.deepEqual(leftovers(path.join(root, "outputs/w")), []);
    assert.throws(() => w.write(Buffer.from("x")), /aborted/);
  });

  it("writer: a key through a symlinked folder or over a symlink is refused before any byte is written", () => {
    fs.mkdirSync(path.join(root, "outputs"), { recursive: true });
    fs.symlinkSync(outside, path.join(root, "outputs", "w-dir-link"));
    fs.writeFileSync(path.join(outside, "w-secret.png"), "secret");
    fs.symlinkSync(path.join(outside, "w-secret.png"), path.join(root, "outputs", "w-key-link.png"));
    assert.throws(
      () => store.writer("outputs/w-dir-link/planted.png"),
      (e: unknown) => e instanceof FarmError && e.details?.constraint === "inside_store",
    );
    assert.throws(
      () => store.writer("outputs/w-key-link.png"),
      (e: unknown) => e instanceof FarmError && e.details?.constraint === "regular_file",
    );
    assert.deepEqual(
      fs.readdirSync(outside).filter((n) => n.startsWith("planted")),
      [],
    );
    assert.equal(fs.readFileSync(path.join(outside, "w-secret.png"), "utf8"), "secret");
  });

  it("writer: a type the extension does not imply gets its sidecar on commit", () => {
    const w = store.writer("outputs/w/typed.png", { contentType: "image/apng" })!;
    w.write(Buffer.from("apng bytes"));
    w.commit();
    assert.equal(JSON.parse(fs.readFileSync(path.join(root, "outputs/w/typed.png.meta"), "utf8")).contentType, "image/apng");
  });

  it("a stream's size comes from the written file; a missing folder is made", async () => {
    const body = crypto.randomBytes(300_000);
    const info = await store.put("outputs/deep/er/c.mp4", Readable.from([body.subarray(0, 1000), body.subarray(1000)]), { contentType: "video/mp4" });
    assert.equal(info.size, body.length);
    assert.ok(fs.readFileSync(path.join(root, "outputs/deep/er/c.mp4")).equals(body));
    assert.equal((await store.stat("outputs/deep/er/c.mp4"))?.contentType, "video/mp4");
  });

  it("a file put without a type and without a known extension has none", async () => {
    await store.put("outputs/t/raw.bin", Buffer.from("x"));
    assert.equal((await store.stat("outputs/t/raw.bin"))?.contentType, undefined);
    assert.equal(impliedType("outputs/t/X.PNG"), "image/png");
    assert.equal(impliedType("outputs/t/x.bin"), undefined);
  });
});
