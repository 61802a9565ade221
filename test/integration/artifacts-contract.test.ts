/**
 * One contract, two stores: the fs store (embedded mode) and the S3 store against a
 * real s3rver. Both must behave the same for every caller (API, agents, farmctl).
 */
import { afterAll, beforeAll, describe, it } from "vitest";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import type { ArtifactStore } from "../../core/artifact-store.ts";
import { FarmError } from "../../core/errors.ts";
import { FsArtifactStore, S3ArtifactStore, createArtifactStore, openArtifactStore } from "../../core/artifacts/index.ts";
import { buildConfig } from "../../core/config/load.ts";
import { startS3, freePort, type ServerHandle } from "../../deploy/servers/infra.ts";

const MiB = 1024 * 1024;
const sha = (b: Buffer) => crypto.createHash("sha256").update(b).digest("hex");

async function readAll(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(Buffer.from(c as Buffer));
  return Buffer.concat(parts);
}

/** Random bytes streamed in odd-sized chunks, so part boundaries never align with writes. */
function bigStream(total: number): { stream: Readable; sha: string } {
  const data = crypto.randomBytes(total);
  const chunks: Buffer[] = [];
  for (let off = 0; off < total; off += 777_777) chunks.push(data.subarray(off, off + 777_777));
  return { stream: Readable.from(chunks), sha: sha(data) };
}

function contract(name: string, open: () => Promise<ArtifactStore>, cleanup: () => Promise<void>): void {
  describe(`artifact store contract: ${name}`, () => {
    let store!: ArtifactStore;
    let tmp = "";
    beforeAll(async () => {
      store = await open();
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), "nb-art-test-"));
    });
    afterAll(async () => {
      // Cleanup runs even when open() failed, so no server outlives the test process.
      try {
        if (store) await store.close?.();
      } finally {
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
        await cleanup();
      }
    });

    it("puts a buffer and reads the same bytes back with its content type", async () => {
      const body = Buffer.from("hello artifact store");
      const info = await store.put("outputs/t/hello.txt", body, { contentType: "text/plain" });
      assert.equal(info.key, "outputs/t/hello.txt");
      assert.equal(info.size, body.length);
      assert.deepEqual(await readAll(await store.get("outputs/t/hello.txt")), body);
      const st = await store.stat("outputs/t/hello.txt");
      assert.equal(st?.size, body.length);
      assert.equal(st?.contentType, "text/plain");
    });

    it("puts a list of chunks as one object (an empty and a short chunk included): the same bytes, the total size", async () => {
      const data = crypto.randomBytes(300_001);
      const chunks = [data.subarray(0, 5), Buffer.alloc(0), data.subarray(5, 65_541), data.subarray(65_541)];
      const info = await store.put("outputs/t/chunks.png", chunks, { contentType: "image/png", size: data.length });
      assert.equal(info.size, data.length);
      assert.equal(sha(await readAll(await store.get("outputs/t/chunks.png"))), sha(data));
      assert.equal((await store.stat("outputs/t/chunks.png"))?.contentType, "image/png");
    });

    it("serves an inclusive byte range", async () => {
      const body = Buffer.from("0123456789abcdef");
      await store.put("outputs/t/range.bin", body);
      assert.equal((await readAll(await store.get("outputs/t/range.bin", { start: 3, end: 7 }))).toString(), "34567");
      assert.equal((await readAll(await store.get("outputs/t/range.bin", { start: 15, end: 15 }))).toString(), "f");
    });

    it("stat is null and get is NOT_FOUND for a missing key", async () => {
      assert.equal(await store.stat("outputs/t/nope.bin"), null);
      await assert.rejects(store.get("outputs/t/nope.bin"), (e: unknown) => e instanceof FarmError && e.code === "NOT_FOUND");
      await assert.rejects(store.getToFile("outputs/t/nope.bin", path.join(tmp, "nope")), (e: unknown) => e instanceof FarmError && e.code === "NOT_FOUND");
    });

    it("lists keys under a prefix only", async () => {
      await store.put("uploads/aa/one.png", Buffer.from("1"));
      await store.put("uploads/aa/two.png", Buffer.from("22"));
      await store.put("uploads/bb/three.png", Buffer.from("333"));
      const keys = (await store.list("uploads/aa/")).map((i) => i.key).sort();
      assert.deepEqual(keys, ["uploads/aa/one.png", "uploads/aa/two.png"]);
      const all = await store.list("uploads/");
      assert.equal(all.find((i) => i.key === "uploads/bb/three.png")?.size, 3);
    });

    it("deletes, and deleting a missing key is not an error", async () => {
      await store.put("outputs/t/gone.txt", Buffer.from("x"));
      await store.delete("outputs/t/gone.txt");
      assert.equal(await store.stat("outputs/t/gone.txt"), null);
      await store.delete("outputs/t/gone.txt");
    });

    it("overwrites an existing key", async () => {
      await store.put("outputs/t/over.txt", Buffer.from("first version"));
      await store.put("outputs/t/over.txt", Buffer.from("second"));
      assert.equal((await readAll(await store.get("outputs/t/over.txt"))).toString(), "second");
    });

    it("stores a 20 MB stream of unknown size intact, and reads a range inside it", async () => {
      const { stream, sha: want } = bigStream(20 * MiB + 123);
      const info = await store.put("outputs/videos/big.bin", stream, { contentType: "video/mp4" });
      assert.equal(info.size, 20 * MiB + 123);
      assert.equal(sha(await readAll(await store.get("outputs/videos/big.bin"))), want);
      // A range that straddles a 5 MiB part boundary.
      const full = await readAll(await store.get("outputs/videos/big.bin"));
      const part = await readAll(await store.get("outputs/videos/big.bin", { start: 5 * MiB - 10, end: 5 * MiB + 9 }));
      assert.deepEqual(part, full.subarray(5 * MiB - 10, 5 * MiB + 10));
    });

    it("putFile and getToFile round-trip a file with a declared size", async () => {
      const src = path.join(tmp, "src.bin");
      const { stream, sha: want } = bigStream(6 * MiB);
      fs.writeFileSync(src, await readAll(stream));
      const info = await store.putFile("uploads/cc/file.bin", src, "application/octet-stream");
      assert.equal(info.size, 6 * MiB);
      const dst = path.join(tmp, "dst.bin");
      await store.getToFile("uploads/cc/file.bin", dst);
      assert.equal(sha(fs.readFileSync(dst)), want);
    });

    it("an overwrite reports the latest put's content type, for small and large buffers alike", async () => {
      // fs: a small buffer is written in one synchronous go, a large one asynchronously, and
      // an extension-implied type has no sidecar: each combination must end with the last put's type.
      for (const size of [1000, 2 * MiB]) {
        const key = `outputs/t/retyped-${size}.png`;
        const first = crypto.randomBytes(size);
        await store.put(key, first, { contentType: "application/x-custom" });
        assert.equal((await store.stat(key))?.contentType, "application/x-custom");
        const second = crypto.randomBytes(size);
        const info = await store.put(key, second, { contentType: "image/png" });
        assert.equal(info.size, size);
        const st = await store.stat(key);
        assert.equal(st?.contentType, "image/png");
        assert.equal(st?.size, size);
        assert.equal(sha(await readAll(await store.get(key))), sha(second));
      }
    });

    it("rejects keys that could escape (.., absolute)", async () => {
      await assert.rejects(store.put("../escape.txt", Buffer.from("x")));
      await assert.rejects(store.put("/abs.txt", Buffer.from("x")));
    });
  });
}

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "nb-fs-store-"));
contract(
  "fs",
  async () => createArtifactStore(buildConfig({ paths: { data_dir: dataDir } })),
  async () => {
    fs.rmSync(dataDir, { recursive: true, force: true });
  },
);

let s3: ServerHandle | undefined;
/**
 * NB_TEST_S3_ENDPOINT (a URL such as http://127.0.0.1:9000) runs the S3 half against a real
 * MinIO or S3 instead of s3rver, with NB_TEST_S3_ACCESS_KEY / NB_TEST_S3_SECRET_KEY and an
 * optional NB_TEST_S3_BUCKET (default contract-test-<pid>, created when missing).
 */
const realS3 = process.env.NB_TEST_S3_ENDPOINT;
contract(
  realS3 ? `s3 (${realS3})` : "s3 (s3rver)",
  async () => {
    // 5 MiB parts so the 20 MB stream and the 6 MB file go up as real multipart uploads.
    if (realS3) {
      const cfg = buildConfig({
        mode: "distributed",
        artifacts: {
          s3: {
            endpoint: realS3,
            bucket: process.env.NB_TEST_S3_BUCKET ?? `contract-test-${process.pid}`,
            part_size_mb: 5,
            access_key: process.env.NB_TEST_S3_ACCESS_KEY ?? "minioadmin",
            secret_key: process.env.NB_TEST_S3_SECRET_KEY ?? "minioadmin",
          },
        },
      });
      return openArtifactStore(cfg);
    }
    s3 = await startS3();
    const cfg = buildConfig({
      mode: "distributed",
      artifacts: { s3: { endpoint: "127.0.0.1", port: s3.port, bucket: "contract-test", part_size_mb: 5, access_key: "S3RVER", secret_key: "S3RVER" } },
    });
    return openArtifactStore(cfg);
  },
  async () => {
    await s3?.stop();
  },
);

describe("createArtifactStore", () => {
  it("embedded mode gives an fs store rooted at data_dir so outputs/ keys land in paths.outputs", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nb-fs-root-"));
    const cfg = buildConfig({ paths: { data_dir: dir } });
    const store = createArtifactStore(cfg);
    assert.ok(store instanceof FsArtifactStore);
    assert.equal(store.root, cfg.paths.data_dir);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("distributed mode gives an S3 store; an unreachable endpoint is SERVICE_UNAVAILABLE at open", async () => {
    const port = await freePort();
    const cfg = buildConfig({ mode: "distributed", artifacts: { s3: { endpoint: `http://127.0.0.1:${port}` } } });
    assert.ok(createArtifactStore(cfg) instanceof S3ArtifactStore);
    await assert.rejects(openArtifactStore(cfg), (e: unknown) => e instanceof FarmError && e.code === "SERVICE_UNAVAILABLE");
  });
});
