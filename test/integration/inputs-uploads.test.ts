/**
 * storeUpload against a real fs artifact store: content addressing, size limits while
 * streaming, type sniffing against the field kind, and the image decompression-bomb check.
 */
import { afterAll, beforeAll, describe, it } from "vitest";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import sharp from "sharp";
import { FsArtifactStore } from "../../core/artifacts/fs-store.ts";
import { FarmError } from "../../core/errors.ts";
import { storeUpload } from "../../api/inputs/uploads.ts";
import type { InputDeps } from "../../api/inputs/input-deps.ts";

let root = "";
let deps: InputDeps;
let png: Buffer;

function wav(samples: number): Buffer {
  const data = samples * 2;
  const b = Buffer.alloc(44 + data);
  b.write("RIFF", 0, "latin1");
  b.writeUInt32LE(36 + data, 4);
  b.write("WAVEfmt ", 8, "latin1");
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(16000, 24);
  b.writeUInt32LE(32000, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write("data", 36, "latin1");
  b.writeUInt32LE(data, 40);
  for (let i = 0; i < samples; i++) b.writeInt16LE(Math.round(8000 * Math.sin(i / 10)), 44 + i * 2);
  return b;
}

const isFarm = (code: string, field: string, constraint?: string) => (e: unknown) => {
  assert.ok(e instanceof FarmError, `expected FarmError, got ${String(e)}`);
  assert.equal(e.code, code, e.message);
  assert.equal(e.details?.field, field);
  if (constraint) assert.equal(e.details?.constraint, constraint);
  return true;
};

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "nb-uploads-test-"));
  fs.mkdirSync(path.join(root, "tmp"));
  deps = {
    store: new FsArtifactStore(path.join(root, "data")),
    paths: { uploads: path.join(root, "data/uploads"), outputs: path.join(root, "data/outputs"), cache: path.join(root, "data/cache"), allowed_input_dirs: [] },
    inputs: {
      allow_http: false,
      allow_private_addresses: false,
      max_image_mb: 1,
      max_audio_mb: 2,
      max_video_mb: 3,
      max_image_pixels: 100_000_000,
      fetch_timeout_ms: 30_000,
    },
    tmpDir: path.join(root, "tmp"),
  };
  png = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 20, b: 90 } } })
    .png()
    .toBuffer();
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe("storeUpload", () => {
  it("stores a real PNG under its content address with the sniffed type and size", async () => {
    const sha = crypto.createHash("sha256").update(png).digest("hex");
    const up = await storeUpload(Readable.from([png]), { kind: "image", filename: "x.jpg", declaredType: "image/jpeg" }, deps);
    assert.equal(up.key, `uploads/${sha.slice(0, 2)}/${sha}.png`);
    assert.equal(up.sha256, sha);
    assert.equal(up.content_type, "image/png");
    assert.equal(up.size, png.length);
    assert.deepEqual([up.width, up.height], [64, 48]);
    assert.deepEqual(fs.readFileSync(path.join(root, "data", up.key)), png);
  });

  it("stores the same bytes once, and leaves no temp files behind", async () => {
    const a = await storeUpload(Readable.from([png]), { kind: "any" }, deps);
    const b = await storeUpload(Readable.from([png.subarray(0, 10), png.subarray(10)]), { kind: "image" }, deps);
    assert.equal(a.key, b.key);
    assert.equal((await deps.store.list("uploads/")).filter((i) => i.key === a.key).length, 1);
    assert.deepEqual(fs.readdirSync(path.join(root, "tmp")), []);
  });

  it("sending a stored file again renews its age once the copy is over an hour old (retention counts from the last upload)", async () => {
    const up = await storeUpload(Readable.from([png]), { kind: "image" }, deps);
    const file = path.join(root, "data", up.key);
    const dayAgo = new Date(Date.now() - 24 * 3_600_000);
    fs.utimesSync(file, dayAgo, dayAgo);
    await storeUpload(Readable.from([png]), { kind: "image" }, deps);
    assert.ok(Date.now() - fs.statSync(file).mtimeMs < 60_000, "rewritten: its age starts again");
    const fresh = fs.statSync(file).mtimeMs;
    await storeUpload(Readable.from([png]), { kind: "image" }, deps);
    assert.equal(fs.statSync(file).mtimeMs, fresh, "a recent copy is not rewritten");
  });

  it("accepts WAV audio for an audio field", async () => {
    const up = await storeUpload(Readable.from([wav(1000)]), { kind: "audio", field: "audio" }, deps);
    assert.match(up.key, /^uploads\/[0-9a-f]{2}\/[0-9a-f]{64}\.wav$/);
    assert.equal(up.content_type, "audio/wav");
  });

  it("rejects an image sent to an audio field (kind mismatch) with UNSUPPORTED_MEDIA_TYPE", async () => {
    await assert.rejects(
      storeUpload(Readable.from([png]), { kind: "audio", field: "audio_file" }, deps),
      isFarm("UNSUPPORTED_MEDIA_TYPE", "audio_file", "kind:audio"),
    );
    await assert.rejects(
      storeUpload(Readable.from([wav(100)]), { kind: "image", field: "image" }, deps),
      isFarm("UNSUPPORTED_MEDIA_TYPE", "image", "kind:image"),
    );
  });

  it("rejects bytes that contradict the declared type, and unknown formats", async () => {
    await assert.rejects(
      storeUpload(Readable.from([wav(100)]), { kind: "any", declaredType: "image/png", field: "file" }, deps),
      isFarm("UNSUPPORTED_MEDIA_TYPE", "file"),
    );
    await assert.rejects(
      storeUpload(Readable.from([Buffer.from("<html><script>alert(1)</script></html>")]), { kind: "any" }, deps),
      isFarm("UNSUPPORTED_MEDIA_TYPE", "file", "format"),
    );
  });

  it("stops an oversize upload while streaming with PAYLOAD_TOO_LARGE, storing nothing", async () => {
    let produced = 0;
    // A 1 MB image limit; the source would yield 50 MB if read to the end.
    const source = Readable.from(
      (function* () {
        yield png.subarray(0, 64);
        for (let i = 0; i < 800; i++) {
          produced += 65536;
          yield Buffer.alloc(65536, 1);
        }
      })(),
    );
    const before = (await deps.store.list("uploads/")).length;
    await assert.rejects(storeUpload(source, { kind: "image", field: "image" }, deps), isFarm("PAYLOAD_TOO_LARGE", "image", "api.inputs.max_image_mb"));
    assert.ok(produced < 4 * 1024 * 1024, `read ${produced} bytes before stopping`);
    assert.equal((await deps.store.list("uploads/")).length, before);
    assert.deepEqual(fs.readdirSync(path.join(root, "tmp")), []);
  });

  it("rejects an empty upload", async () => {
    await assert.rejects(storeUpload(Readable.from([]), { kind: "image", field: "image" }, deps), isFarm("VALIDATION_ERROR", "image", "non-empty"));
  });

  it("rejects a truncated PNG that cannot be decoded", async () => {
    await assert.rejects(
      storeUpload(Readable.from([png.subarray(0, 40)]), { kind: "image", field: "image" }, deps),
      isFarm("VALIDATION_ERROR", "image", "decodable image"),
    );
  });

  it("rejects a PNG decompression bomb (small file, 144 Mpx canvas) with VALIDATION_ERROR max_image_pixels", async () => {
    const bomb = await sharp({ create: { width: 12000, height: 12000, channels: 3, background: { r: 0, g: 0, b: 0 } }, limitInputPixels: false })
      .png({ compressionLevel: 9 })
      .toBuffer();
    assert.ok(bomb.length < 1024 * 1024, `bomb is ${bomb.length} bytes, under the 1 MB byte limit`);
    await assert.rejects(
      storeUpload(Readable.from([bomb]), { kind: "image", field: "reference_images[0]" }, deps),
      isFarm("VALIDATION_ERROR", "reference_images[0]", "max_image_pixels"),
    );
    assert.equal(
      (await deps.store.list("uploads/")).some((i) => i.size === bomb.length),
      false,
    );
  });
});
