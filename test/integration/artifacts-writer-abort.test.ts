/**
 * The fs store's writer() on failure paths (core/artifacts/fs-store.ts): abort() runs while
 * the caller handles another error (a /view deadline passed, a body cut, a disk full), so it
 * cleans up what it can and never throws: the error the caller reports stays the one that
 * happened. Here the temp file cannot be removed (a folder was put in its place; a file
 * system remounted read-only after an I/O error refuses the same way), and /view's body is cut
 * or its deadline passes mid-body. Real HTTP server on 127.0.0.1, real files.
 */
import { afterAll, beforeAll, describe, test } from "vitest";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type net from "node:net";
import os from "node:os";
import path from "node:path";
import { FsArtifactStore } from "../../core/artifacts/fs-store.ts";
import { FarmError } from "../../core/errors.ts";
import { ComfyClient } from "../../plugins/comfyui/client/index.ts";
import { viewIntoStore } from "../../plugins/comfyui/jobs/view-store.ts";
import { rejection, until } from "../helpers/waits.ts";

const ref = { filename: "ComfyUI_00001_.png", subfolder: "", type: "output" };
/** Over the fs store's 1 MiB one-go limit, so /view's body goes to a writer as it arrives. */
const BODY = crypto.createHash("sha512").update("fixed").digest().toString("hex").repeat(20_000).slice(0, 1_500_000);

describe("fs store writer: abort on failure paths", () => {
  let root!: string;
  let store!: FsArtifactStore;
  let server!: http.Server;
  let url = "";
  /** Responses held open (the deadline tests): ended when the test is done. */
  const held: http.ServerResponse[] = [];
  /** Each test writes under its own folder: one test's leftovers never show in another's checks. */
  const dir = (key: string) => path.join(root, path.dirname(key));
  const parts = (key: string) => (fs.existsSync(dir(key)) ? fs.readdirSync(dir(key)).filter((n) => n.endsWith(".part")) : []);
  /** Puts a non-empty folder where the writer's temp file is: rm() of that path then fails. */
  const blockTemp = (key: string) => {
    const [part] = parts(key);
    const p = path.join(dir(key), part!);
    fs.rmSync(p);
    fs.mkdirSync(path.join(p, "inner"), { recursive: true });
    return p;
  };

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "nb-writer-abort-"));
    store = new FsArtifactStore(root);
    // Half the body, then nothing: the client's deadline passes mid-body.
    server = http.createServer((_req, res) => {
      res.writeHead(200, { "content-type": "image/png", "content-length": String(BODY.length) });
      res.write(BODY.slice(0, BODY.length >> 1));
      held.push(res);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const res of held) res.destroy();
    await new Promise((r) => server.close(r));
    fs.rmSync(root, { recursive: true, force: true });
  });

  test("abort() of a writer whose temp file cannot be removed does not throw; nothing is published; a second abort is a no-op", () => {
    const key = "outputs/stuck/a.png";
    const w = store.writer(key, { contentType: "image/png" })!;
    w.write(Buffer.from(BODY.slice(0, 100_000)));
    const blocked = blockTemp(key);
    assert.doesNotThrow(() => w.abort());
    assert.doesNotThrow(() => w.abort());
    assert.throws(() => w.write(Buffer.from("x")), /aborted/);
    assert.throws(() => w.commit(), /aborted/);
    assert.equal(fs.existsSync(path.join(root, key)), false);
    fs.rmSync(blocked, { recursive: true });
  });

  test("a /view deadline passing mid-body: TIMEOUT, the temp file removed, nothing under the key", async () => {
    const key = "outputs/late/a.png";
    const client = new ComfyClient({ baseUrl: url, requestTimeoutMs: 1000 });
    try {
      const err = await rejection(viewIntoStore(client, ref, store, key, { contentType: "image/png" }, () => true));
      assert.ok(err instanceof FarmError && err.code === "TIMEOUT", String(err));
      assert.equal(fs.existsSync(path.join(root, key)), false);
      assert.deepEqual(parts(key), []);
    } finally {
      client.close();
    }
  });

  test("a body cut while the temp file cannot be removed: still the retryable comfyui_lost (the cleanup's failure does not replace it)", async () => {
    const key = "outputs/cut-stuck/a.png";
    // No deadline in play: the test cuts the body itself once the temp file is blocked.
    const client = new ComfyClient({ baseUrl: url, requestTimeoutMs: 600_000 });
    try {
      const pending = rejection(viewIntoStore(client, ref, store, key, { contentType: "image/png" }, () => true));
      await until(
        () => parts(key).length === 1 && fs.statSync(path.join(dir(key), parts(key)[0]!)).size === BODY.length >> 1,
        "the first half in the temp file",
      );
      const blocked = blockTemp(key);
      held.at(-1)!.socket!.destroy();
      const err = await pending;
      assert.ok(err instanceof FarmError && err.code === "GPU_ERROR" && err.details?.reason === "comfyui_lost", String(err));
      assert.equal(fs.existsSync(path.join(root, key)), false);
      fs.rmSync(blocked, { recursive: true });
    } finally {
      client.close();
    }
  });
});
