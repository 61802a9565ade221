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
