/**
 * An image output of ComfyUI from GET /view into the artifact store (plugins/comfyui/jobs/
 * view-store.ts): a PNG over 1 MiB is written to the fs store's temp file while the body
 * arrives, a smaller one put as the socket's chunk list once whole (one writev), and either is
 * published under the key only once it is whole and accepted; a body cut mid-way, a refused
 * body, a 404 or a local write failure leaves nothing under the key and no temp file. Stores
 * without a writer (S3) get the chunk list. Real HTTP servers on 127.0.0.1, real files.
 */
import { afterAll, beforeAll, describe, test } from "vitest";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type net from "node:net";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import type { ArtifactStore, PutBody, PutOptions } from "../../core/artifact-store.ts";
import { FsArtifactStore } from "../../core/artifacts/fs-store.ts";
import { FarmError } from "../../core/errors.ts";
import { ComfyClient } from "../../plugins/comfyui/client/index.ts";
import { VIEW_MAX_BYTES } from "../../plugins/comfyui/client/client.ts";
import { getChunks, keepAliveAgents } from "../../plugins/comfyui/client/http-get.ts";
import { acceptPng as acceptPngOf, pngSize } from "../../plugins/comfyui/jobs/image.ts";
import { headOf, tailOf, viewIntoStore } from "../../plugins/comfyui/jobs/view-store.ts";
import { rejection, until } from "../helpers/waits.ts";

const ref = { filename: "ComfyUI_00001_.png", subfolder: "", type: "output" };
const KEY = "outputs/images/job-1.png";
const PNG_OPTS: PutOptions = { contentType: "image/png" };

/** image.ts's check: the PNG's size from its header (else MODEL_ERROR), its IEND end chunk there (else comfyui_lost). */
const acceptPng = acceptPngOf("ComfyUI's output");

describe("comfyui /view into the artifact store", () => {
  let root!: string;
  let store!: FsArtifactStore;
  /** ~1.5 MB: streamed into the fs store. */
  let png!: Buffer;
  /** ~0.4 MB: put whole, as a chunk list. */
  let small!: Buffer;
  let server!: http.Server;
  let url = "";
  /** How the next /view is answered. */
  let answer: (res: http.ServerResponse) => void = () => undefined;
  const dir = () => path.join(root, "outputs/images");
  const parts = () => (fs.existsSync(dir()) ? fs.readdirSync(dir()).filter((n) => n.endsWith(".part")) : []);

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "nb-viewstore-"));
    store = new FsArtifactStore(root);
    // Noise pixels, stored uncompressed: PNGs many socket reads long, one above the fs store's 1 MiB.
    png = await sharp(fixedNoise(720 * 720 * 3), { raw: { width: 720, height: 720, channels: 3 } })
      .png({ compressionLevel: 0 })
      .toBuffer();
    small = await sharp(fixedNoise(360 * 360 * 3), { raw: { width: 360, height: 360, channels: 3 } })
      .png({ compressionLevel: 0 })
      .toBuffer();
    assert.ok(png.length > 1024 * 1024 && small.length < 1024 * 1024);
    server = http.createServer((req, res) => (req.url?.startsWith("/view?") ? answer(res) : ((res.statusCode = 404), res.end())));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  });
  afterAll(() => {
    server.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  test("a PNG over 1 MiB is written while its body arrives: the temp file grows before the last byte is sent; the key appears only at the end", async () => {
    const half = png.length >> 1;
    let sendRest!: () => void;
    answer = (res) => {
      res.writeHead(200, { "content-type": "image/png", "content-length": String(png.length) });
      res.write(png.subarray(0, half));
      sendRest = () => res.end(png.subarray(half));
    };
    const client = new ComfyClient({ baseUrl: url });
    try {
      const pending = viewIntoStore(client, ref, store, KEY, PNG_OPTS, acceptPng);
      // The first half is on disk (in the temp file) while the server still holds the rest back.
      await until(() => parts().length === 1 && fs.statSync(path.join(dir(), parts()[0]!)).size === half, "the first half in the temp file");
      assert.equal(fs.existsSync(path.join(root, KEY)), false);
      sendRest();
      const got = await pending;
      assert.deepEqual(got.accepted, { width: 720, height: 720 });
      assert.equal(got.size, png.length);
      assert.ok(Buffer.concat(got.chunks).equals(png));
      assert.ok(fs.readFileSync(path.join(root, KEY)).equals(png));
      assert.deepEqual(parts(), []);
      assert.equal((await store.stat(KEY))?.contentType, "image/png");
    } finally {
      client.close();
      fs.rmSync(path.join(root, KEY), { force: true });
    }
  });

  test("a PNG up to 1 MiB is put as the socket's chunk list once whole: the store is asked for a writer with its size, says no", async () => {
    const asked: Array<number | undefined> = [];
    const puts: PutBody[] = [];
    const spy: ArtifactStore = {
      ...wrap(store),
      writer: (k, o) => (asked.push(o?.size), store.writer(k, o)),
      put: (k, b, o) => (puts.push(b), store.put(k, b, o)),
    };
    answer = (res) => {
      res.writeHead(200, { "content-type": "image/png", "content-length": String(small.length) });
      res.write(small.subarray(0, 10), () => res.end(small.subarray(10)));
    };
    const client = new ComfyClient({ baseUrl: url });
    try {
      const got = await viewIntoStore(client, ref, spy, KEY, PNG_OPTS, acceptPng);
      assert.deepEqual(got.accepted, { width: 360, height: 360 });
      assert.deepEqual(asked, [small.length]);
      assert.equal(puts.length, 1);
      assert.ok(Array.isArray(puts[0]) && (puts[0] as Buffer[]).length >= 2, "the chunks, not one joined buffer");
      assert.ok(fs.readFileSync(path.join(root, KEY)).equals(small));
      assert.deepEqual(parts(), []);
    } finally {
      client.close();
      fs.rmSync(path.join(root, KEY), { force: true });
    }
  });

  for (const [label, body] of [
    ["streamed (over 1 MiB)", () => png],
    ["put whole (up to 1 MiB)", () => small],
  ] as const) {
    test(`${label}: a body cut mid-way is a retryable GPU_ERROR comfyui_lost; no artifact under the key, no temp file left`, async () => {
      const bytes = body();
      answer = (res) => {
        res.writeHead(200, { "content-type": "image/png", "content-length": String(bytes.length) });
        res.write(bytes.subarray(0, bytes.length >> 1), () => res.socket?.destroy());
      };
      const client = new ComfyClient({ baseUrl: url });
      try {
        const err = await rejection(viewIntoStore(client, ref, store, KEY, PNG_OPTS, acceptPng));
        assert.ok(err instanceof FarmError && err.code === "GPU_ERROR" && err.retryable, String(err));
        assert.equal(err.details?.reason, "comfyui_lost");
        assert.equal(fs.existsSync(path.join(root, KEY)), false);
        assert.equal(await store.stat(KEY), null);
        assert.deepEqual(parts(), []);
      } finally {
        client.close();
      }
    });
  }

  test("a cut body leaves an earlier object under the key as it was", async () => {
    await store.put(KEY, png, PNG_OPTS);
    answer = (res) => {
      res.writeHead(200, { "content-type": "image/png", "content-length": String(png.length) });
      res.write(Buffer.alloc(1000, 7), () => res.socket?.destroy());
    };
    const client = new ComfyClient({ baseUrl: url });
    try {
      const err = await rejection(viewIntoStore(client, ref, store, KEY, PNG_OPTS, acceptPng));
      assert.equal((err as FarmError).details?.reason, "comfyui_lost");
      assert.ok(fs.readFileSync(path.join(root, KEY)).equals(png));
      assert.deepEqual(parts(), []);
    } finally {
      client.close();
      fs.rmSync(path.join(root, KEY), { force: true });
    }
  });

  test("a body framed by the connection's close and cut (no Content-Length, not chunked): comfyui_lost by the missing IEND, nothing published", async () => {
    // Looks whole to HTTP: the answer ends where the socket does. Both sizes: streamed and put whole.
    for (const body of [png, small]) {
      answer = (res) => {
        const sock = res.socket!;
        sock.write("HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nConnection: close\r\n\r\n");
        sock.end(body.subarray(0, body.length >> 1));
      };
      const client = new ComfyClient({ baseUrl: url });
      try {
        const err = await rejection(viewIntoStore(client, ref, store, KEY, PNG_OPTS, acceptPng));
        assert.ok(err instanceof FarmError && err.code === "GPU_ERROR" && err.retryable === true, String(err));
        assert.equal(err.details?.reason, "comfyui_lost");
        assert.match(err.message, /IEND/);
        assert.equal(fs.existsSync(path.join(root, KEY)), false);
        assert.deepEqual(parts(), []);
      } finally {
        client.close();
      }
    }
    // The same framing, whole: accepted and published.
    answer = (res) => {
      const sock = res.socket!;
      sock.write("HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nConnection: close\r\n\r\n");
      sock.end(png);
    };
    const client = new ComfyClient({ baseUrl: url });
    try {
      await viewIntoStore(client, ref, store, KEY, PNG_OPTS, acceptPng);
      assert.ok(fs.readFileSync(path.join(root, KEY)).equals(png));
    } finally {
      client.close();
      fs.rmSync(path.join(root, KEY), { force: true });
    }
  });

  test("a whole body that is not a PNG (streamed: no Content-Length): the caller's MODEL_ERROR, nothing stored", async () => {
    // Written in pieces without a length: chunked, so the fs store streams it to a temp file.
    answer = (res) => {
      res.writeHead(200, { "content-type": "image/png" });
      res.write(Buffer.alloc(50_000, 1), () => res.end(Buffer.alloc(50_000, 2)));
    };
    const client = new ComfyClient({ baseUrl: url });
    try {
      const err = await rejection(viewIntoStore(client, ref, store, KEY, PNG_OPTS, acceptPng));
      assert.ok(err instanceof FarmError && err.code === "MODEL_ERROR", String(err));
      assert.equal(err.details?.reason, "comfyui_bad_output");
      assert.equal(fs.existsSync(path.join(root, KEY)), false);
      assert.deepEqual(parts(), []);
    } finally {
      client.close();
    }
  });

  test("a 404 from /view: comfyui_http with ComfyUI's text; no temp file is opened", async () => {
    let opened = 0;
    const counting: ArtifactStore = { ...wrap(store), writer: (k, o) => (opened++, store.writer(k, o)) };
    answer = (res) => res.writeHead(404, { "content-type": "text/plain" }).end("404: Not Found");
    const client = new ComfyClient({ baseUrl: url });
    try {
      const err = await rejection(viewIntoStore(client, ref, counting, KEY, PNG_OPTS, acceptPng));
      assert.ok(err instanceof FarmError && err.details?.reason === "comfyui_http", String(err));
      assert.equal(err.details?.status, 404);
      assert.equal(opened, 0);
      assert.equal(fs.existsSync(path.join(root, KEY)), false);
    } finally {
      client.close();
    }
  });

  test("a local write failure (disk full) is thrown as it is, not as ComfyUI lost; the temp file is removed", async () => {
    const full: ArtifactStore = {
      ...wrap(store),
      writer: (k, o) => {
        const w = store.writer(k, o)!;
        let n = 0;
        return {
          write: (c) => {
            if (++n === 2) throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
            w.write(c);
          },
          commit: () => w.commit(),
          abort: () => w.abort(),
        };
      },
    };
    // Sent in several writes so the body arrives as more than one chunk.
    answer = (res) => {
      res.writeHead(200, { "content-type": "image/png", "content-length": String(png.length) });
      const step = 64 * 1024;
      // Stops at the first failed write: the client hangs up once its sink failed.
      const send = (off: number): unknown =>
        off >= png.length ? res.end() : res.write(png.subarray(off, off + step), (err) => (err ? undefined : send(off + step)));
      send(0);
    };
    const client = new ComfyClient({ baseUrl: url });
    try {
      const err = await rejection(viewIntoStore(client, ref, full, KEY, PNG_OPTS, acceptPng));
      assert.equal((err as NodeJS.ErrnoException).code, "ENOSPC");
      assert.ok(!(err instanceof FarmError));
      assert.equal(fs.existsSync(path.join(root, KEY)), false);
      assert.deepEqual(parts(), []);
    } finally {
      client.close();
    }
  });

  test("a writer refused when the headers come (the key is a symlink): that VALIDATION_ERROR, the body not read, nothing written", async () => {
    const link = "outputs/images/linked.png";
    const target = path.join(root, "elsewhere.png");
    fs.writeFileSync(target, "kept");
    fs.mkdirSync(dir(), { recursive: true });
    fs.symlinkSync(target, path.join(root, link));
    answer = (res) => res.writeHead(200, { "content-type": "image/png", "content-length": String(png.length) }).end(png);
    const client = new ComfyClient({ baseUrl: url });
    try {
      const err = await rejection(viewIntoStore(client, ref, store, link, PNG_OPTS, acceptPng));
      assert.ok(err instanceof FarmError && err.code === "VALIDATION_ERROR" && err.details?.constraint === "regular_file", String(err));
      assert.equal(fs.readFileSync(target, "utf8"), "kept");
      assert.ok(fs.lstatSync(path.join(root, link)).isSymbolicLink());
      assert.deepEqual(parts(), []);
    } finally {
      client.close();
      fs.rmSync(path.join(root, link), { force: true });
    }
  });

  test("a store without a writer (S3) is given the socket's chunks as one list once the body is whole and accepted, whatever its size", async () => {
    const puts: Array<{ key: string; body: PutBody; opts?: PutOptions }> = [];
    const listOnly: ArtifactStore = { ...wrap(store), put: (key, body, opts) => (puts.push({ key, body, opts }), store.put(key, body, opts)) };
    answer = (res) => {
      res.writeHead(200, { "content-type": "image/png", "content-length": String(png.length) });
      res.write(png.subarray(0, 10), () => res.end(png.subarray(10)));
    };
    const client = new ComfyClient({ baseUrl: url });
    try {
      const got = await viewIntoStore(client, ref, listOnly, KEY, PNG_OPTS, acceptPng);
      assert.deepEqual(got.accepted, { width: 720, height: 720 });
      assert.equal(puts.length, 1);
      assert.ok(Array.isArray(puts[0]!.body) && (puts[0]!.body as Buffer[]).length >= 2, "the chunks, not one joined buffer");
      assert.deepEqual(puts[0]!.opts, { contentType: "image/png", size: png.length });
      assert.ok(fs.readFileSync(path.join(root, KEY)).equals(png));
    } finally {
      client.close();
      fs.rmSync(path.join(root, KEY), { force: true });
    }
  });

  test("a cancel while the body arrives drops the transfer: the signal's JOB_CANCELLED, no temp file, nothing published", async () => {
    const half = png.length >> 1;
    let held: http.ServerResponse | undefined;
    answer = (res) => {
      res.writeHead(200, { "content-type": "image/png", "content-length": String(png.length) });
      res.write(png.subarray(0, half));
      held = res; // the rest never comes: only the cancel can end this
    };
    const client = new ComfyClient({ baseUrl: url });
    const ac = new AbortController();
    try {
      const pending = viewIntoStore(client, ref, store, KEY, PNG_OPTS, acceptPng, ac.signal);
      await until(() => parts().length === 1 && fs.statSync(path.join(dir(), parts()[0]!)).size === half, "the first half in the temp file");
      ac.abort(new FarmError("JOB_CANCELLED", "job job-1 was cancelled"));
      const err = await rejection(pending);
      assert.ok(err instanceof FarmError && err.code === "JOB_CANCELLED", String(err));
      assert.equal(fs.existsSync(path.join(root, KEY)), false);
      assert.deepEqual(parts(), []);
      // Already cancelled: no request at all.
      let asked = false;
      answer = (res) => ((asked = true), res.end(png));
      const again = await rejection(viewIntoStore(client, ref, store, KEY, PNG_OPTS, acceptPng, ac.signal));
      assert.ok(again instanceof FarmError && again.code === "JOB_CANCELLED");
      assert.equal(asked, false);
      assert.equal(fs.existsSync(path.join(root, KEY)), false);
    } finally {
      held?.destroy();
      client.close();
    }
  });

  test("a body over the byte cap is refused unread: announced (client, VIEW_MAX_BYTES) or counted as it comes (getChunks)", async () => {
    // Announced: ComfyUI says 600 MiB; the client does not read it (nor open the store's writer).
    answer = (res) => {
      res.writeHead(200, { "content-type": "image/png", "content-length": String(VIEW_MAX_BYTES + 1) });
      res.write(png.subarray(0, 1000));
    };
    const client = new ComfyClient({ baseUrl: url });
    try {
      const err = await rejection(viewIntoStore(client, ref, store, KEY, PNG_OPTS, acceptPng));
      assert.ok(err instanceof FarmError && err.code === "MODEL_ERROR", String(err));
      assert.equal(err.details?.reason, "comfyui_output_too_large");
      assert.equal(err.details?.max_bytes, VIEW_MAX_BYTES);
      assert.equal(fs.existsSync(path.join(root, KEY)), false);
      assert.deepEqual(parts(), []);
    } finally {
      client.close();
    }
    // Counted: a chunked body (no length) passes a small cap mid-way; the sink saw at most one chunk past it.
    answer = (res) => {
      res.writeHead(200, { "content-type": "image/png" });
      res.write(png.subarray(0, 300_000), () => res.write(png.subarray(300_000, 600_000), () => res.end(png.subarray(600_000))));
    };
    const agents = keepAliveAgents();
    try {
      let sunk = 0;
      const got = await getChunks(`${url}/view?x=1`, agents, 20_000, () => ({ write: (c: Buffer) => void (sunk += c.length) }), { maxBytes: 400_000 });
      assert.equal(got.kind, "too_big");
      assert.ok(got.kind === "too_big" && got.size > 400_000 && got.size < png.length, JSON.stringify(got));
      assert.ok(sunk <= (got as { size: number }).size);
    } finally {
      agents.http.destroy();
    }
  });

  test("tailOf: the last bytes of a chunk list, across a last chunk shorter than asked", () => {
    const list = [Buffer.from("abcdef"), Buffer.from("gh"), Buffer.from("i")];
    assert.equal(tailOf(list, 4).toString(), "fghi");
    assert.equal(tailOf(list, 1).toString(), "i");
    assert.equal(tailOf(list, 50).toString(), "abcdefghi");
    assert.equal(tailOf([Buffer.from("xyz")], 2).toString(), "yz");
    assert.equal(tailOf([], 3).length, 0);
  });

  test("headOf: the first bytes of a chunk list, across a first chunk shorter than asked", () => {
    const b = Buffer.from("0123456789abcdefghijklmnopqrstuvwxyz");
    assert.equal(headOf([b], 24).toString(), "0123456789abcdefghijklmn");
    assert.equal(headOf([b.subarray(0, 5), Buffer.alloc(0), b.subarray(5, 9), b.subarray(9)], 24).toString(), "0123456789abcdefghijklmn");
    assert.equal(headOf([b.subarray(0, 5), b.subarray(5, 10)], 24).toString(), "0123456789");
    assert.equal(headOf([], 24).length, 0);
    assert.deepEqual(pngSize(headOf([png.subarray(0, 3), png.subarray(3, 20), png.subarray(20)], 24)), { width: 720, height: 720 });
  });
});

/** The store's methods as a plain object without a writer (a spread of a class instance loses them). */
function wrap(s: FsArtifactStore): ArtifactStore {
  return {
    kind: s.kind,
    put: (k, b, o) => s.put(k, b, o),
    putFile: (k, f, t) => s.putFile(k, f, t),
    get: (k, r) => s.get(k, r),
    getToFile: (k, f) => s.getToFile(k, f),
    stat: (k) => s.stat(k),
    delete: (k) => s.delete(k),
    list: (p) => s.list(p),
  };
}

/** Deterministic incompressible bytes (a counter through SHA-256), so the PNG is the same every run. */
function fixedNoise(n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0, block = 0; i < n; block++) {
    const h = crypto.createHash("sha256").update(`noise-${block}`).digest();
    i += h.copy(out, i);
  }
  return out;
}
