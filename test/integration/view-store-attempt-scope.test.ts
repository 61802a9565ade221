/**
 * A retried attempt's image output from ComfyUI's /view (plugins/comfyui/jobs/view-store.ts)
 * through the attempt scope (core/artifacts/attempt-scope.ts), on both stores: the S3 store
 * (s3rver; no writer, the chunk list is put once whole) and the fs store (a body over 1 MiB
 * goes to its writer as it arrives). The attempt publishes under its own key
 * (`<job>.lease3.png`) with the bytes ComfyUI sent, the plain key stays untouched, and the
 * result names the attempt's key; a body cut mid-way publishes nothing under either key and
 * leaves no temp file. Real HTTP server on 127.0.0.1, real s3rver, real files.
 */
import { afterAll, beforeAll, describe, test } from "vitest";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type net from "node:net";
import os from "node:os";
import path from "node:path";
import type { ArtifactStore } from "../../core/artifact-store.ts";
import { attemptScope } from "../../core/artifacts/attempt-scope.ts";
import { FsArtifactStore } from "../../core/artifacts/fs-store.ts";
import { openArtifactStore } from "../../core/artifacts/index.ts";
import { buildConfig } from "../../core/config/load.ts";
import { FarmError } from "../../core/errors.ts";
import { startS3, type ServerHandle } from "../../deploy/servers/infra.ts";
import { ComfyClient } from "../../plugins/comfyui/client/index.ts";
import { pngSize } from "../../plugins/comfyui/jobs/image.ts";
import { headOf, viewIntoStore } from "../../plugins/comfyui/jobs/view-store.ts";
import sharp from "sharp";
import { rejection } from "../helpers/waits.ts";

const ref = { filename: "ComfyUI_00001_.png", subfolder: "", type: "output" };
const KEY = "outputs/images/job-r.png";
const LEASE3 = "outputs/images/job-r.lease3.png";
const sha = (b: Buffer) => crypto.createHash("sha256").update(b).digest("hex");
const acceptPng = (chunks: readonly Buffer[], n: number) => {
  const png = pngSize(headOf(chunks, 24));
  if (!png) throw new FarmError("MODEL_ERROR", `not a PNG image (${n} bytes)`, { reason: "comfyui_bad_output" });
  return png;
};

async function readAll(s: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** Deterministic incompressible bytes (a counter through SHA-256): the same PNG every run. */
function fixedNoise(n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0, block = 0; i < n; block++) i += crypto.createHash("sha256").update(`attempt-${block}`).digest().copy(out, i);
  return out;
}

describe("/view of a retried attempt into the artifact store, through the attempt scope", () => {
  let s3!: ServerHandle;
  let s3Store!: ArtifactStore;
  let root!: string;
  let fsStore!: FsArtifactStore;
  /** ~1.5 MB (over the fs store's one-go limit: its writer takes it) and ~0.4 MB. */
  const pngs: Record<"big" | "small", Buffer> = { big: Buffer.alloc(0), small: Buffer.alloc(0) };
  let server!: http.Server;
  let url = "";
  let answer: (res: http.ServerResponse) => void = () => undefined;

  beforeAll(async () => {
    s3 = await startS3();
    const cfg = buildConfig({
      mode: "distributed",
      artifacts: { s3: { endpoint: "127.0.0.1", port: s3.port, bucket: "attempt-view", access_key: "S3RVER", secret_key: "S3RVER" } },
    });
    s3Store = await openArtifactStore(cfg);
    root = fs.mkdtempSync(path.join(os.tmpdir(), "nb-attempt-view-"));
    fsStore = new FsArtifactStore(root);
    for (const [name, side] of [
      ["big", 720],
      ["small", 360],
    ] as const) {
      pngs[name] = await sharp(fixedNoise(side * side * 3), { raw: { width: side, height: side, channels: 3 } })
        .png({ compressionLevel: 0 })
        .toBuffer();
    }
    assert.ok(pngs.big.length > 1024 * 1024 && pngs.small.length < 1024 * 1024);
    server = http.createServer((_req, res) => answer(res));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await s3Store?.close?.();
    await s3?.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  const storeOf = (which: "s3" | "fs"): ArtifactStore => (which === "s3" ? s3Store : fsStore);

  for (const size of ["big", "small"] as const) {
    for (const which of ["s3", "fs"] as const) {
      test(`${which}, ${size} PNG: published under the attempt's key with ComfyUI's bytes; the plain key untouched; the result names the attempt's key`, async () => {
        const base = storeOf(which);
        const png = pngs[size];
        answer = (res) => {
          res.writeHead(200, { "content-type": "image/png", "content-length": String(png.length) });
          res.write(png.subarray(0, 10), () => res.end(png.subarray(10)));
        };
        const scope = attemptScope(base, 3);
        const client = new ComfyClient({ baseUrl: url });
        try {
          const got = await viewIntoStore(client, ref, scope.store, KEY, { contentType: "image/png" }, acceptPng);
          assert.equal(got.size, png.length);
          const st = await base.stat(LEASE3);
          assert.equal(st?.size, png.length);
          assert.equal(st?.contentType, "image/png");
          assert.equal(sha(await readAll(await base.get(LEASE3))), sha(png));
          assert.equal(await base.stat(KEY), null);
          assert.equal(scope.result({ image_url: "/outputs/images/job-r.png" }).image_url, "/outputs/images/job-r.lease3.png");
        } finally {
          client.close();
          await base.delete(LEASE3);
        }
      });

      test(`${which}, ${size} PNG cut mid-way: comfyui_lost, nothing under either key, no temp file`, async () => {
        const base = storeOf(which);
        const png = pngs[size];
        answer = (res) => {
          res.writeHead(200, { "content-type": "image/png", "content-length": String(png.length) });
          res.write(png.subarray(0, png.length >> 1), () => res.socket?.destroy());
        };
        const client = new ComfyClient({ baseUrl: url });
        try {
          const err = await rejection(viewIntoStore(client, ref, attemptScope(base, 3).store, KEY, { contentType: "image/png" }, acceptPng));
          assert.ok(err instanceof FarmError && err.details?.reason === "comfyui_lost", String(err));
          assert.equal(await base.stat(LEASE3), null);
          assert.equal(await base.stat(KEY), null);
          assert.deepEqual(
            (await base.list("outputs/images/")).map((i) => i.key),
            [],
          );
          if (which === "fs") assert.deepEqual(fs.existsSync(path.join(root, "outputs/images")) ? fs.readdirSync(path.join(root, "outputs/images")) : [], []);
        } finally {
          client.close();
        }
      });
    }
  }
});
