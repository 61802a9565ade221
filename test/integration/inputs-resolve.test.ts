/**
 * resolveMediaInput: every way a request can name media, and every way it must not
 * reach outside (path traversal, symlink escape, SSRF). URL tests only ever connect to
 * a server on 127.0.0.1; checks for other addresses must refuse before connecting.
 */
import { afterAll, beforeAll, describe, it } from "vitest";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import sharp from "sharp";
import { FsArtifactStore } from "../../core/artifacts/fs-store.ts";
import { FarmError } from "../../core/errors.ts";
import { resolveMediaInput } from "../../api/inputs/resolve-input.ts";
import type { InputDeps } from "../../api/inputs/input-deps.ts";

let root = "";
let png: Buffer;
let outside = "";
let server: http.Server;
let port = 0;
let connections = 0;
let base: InputDeps;

const deps = (inputs: Partial<InputDeps["inputs"]> = {}, extra: Partial<InputDeps> = {}): InputDeps => ({
  ...base,
  inputs: { ...base.inputs, ...inputs },
  ...extra,
});

const isFarm = (code: string, field: string, constraint?: string) => (e: unknown) => {
  assert.ok(e instanceof FarmError, `expected FarmError, got ${String(e)}`);
  assert.equal(e.code, code, e.message);
  assert.equal(e.details?.field, field);
  if (constraint) assert.equal(e.details?.constraint, constraint, e.message);
  return true;
};

beforeAll(async () => {
  root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "nb-resolve-test-")));
  const data = path.join(root, "data");
  for (const d of ["uploads", "outputs", "cache"]) fs.mkdirSync(path.join(data, d), { recursive: true });
  fs.mkdirSync(path.join(root, "elsewhere"));
  png = await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 1, g: 2, b: 3 } } })
    .png()
    .toBuffer();
  fs.writeFileSync(path.join(data, "outputs", "frame.png"), png);
  outside = path.join(root, "elsewhere", "secret.png");
  fs.writeFileSync(outside, png);
  fs.symlinkSync(outside, path.join(data, "uploads", "link-out.png"));
  fs.symlinkSync("/etc/passwd", path.join(data, "uploads", "passwd"));
  base = {
    store: new FsArtifactStore(data),
    paths: { uploads: path.join(data, "uploads"), outputs: path.join(data, "outputs"), cache: path.join(data, "cache"), allowed_input_dirs: [] },
    inputs: {
      allow_http: false,
      allow_private_addresses: false,
      max_image_mb: 1,
      max_audio_mb: 2,
      max_video_mb: 3,
      max_image_pixels: 100_000_000,
      fetch_timeout_ms: 30_000,
    },
    tmpDir: root,
    fetchTimeoutMs: 5000,
  };
  server = http.createServer((req, res) => {
    if (req.url === "/img.png") {
      res.writeHead(200, { "content-type": "image/png" });
      res.end(png);
    } else if (req.url === "/redir") {
      res.writeHead(302, { location: "/img.png" });
      res.end();
    } else if (req.url === "/loop") {
      res.writeHead(302, { location: "/loop" });
      res.end();
    } else if (req.url === "/to-file") {
      res.writeHead(302, { location: "file:///etc/passwd" });
      res.end();
    } else if (req.url === "/hang") {
      /* never answers */
    } else if (req.url === "/big") {
      res.writeHead(200, { "content-length": String(50 * 1024 * 1024) });
      res.write(png);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  server.on("connection", () => {
    connections++;
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  fs.rmSync(root, { recursive: true, force: true });
});

describe("resolveMediaInput: base64 and references", () => {
  it("stores raw base64 and a data URL as the same content-addressed upload", async () => {
    const sha = crypto.createHash("sha256").update(png).digest("hex");
    const a = await resolveMediaInput(png.toString("base64"), "image", "image", deps());
    const b = await resolveMediaInput(`data:image/png;base64,${png.toString("base64")}`, "image", "image", deps());
    assert.equal(a.key, `uploads/${sha.slice(0, 2)}/${sha}.png`);
    assert.equal(b.key, a.key);
    assert.equal(a.content_type, "image/png");
    assert.equal(a.size, png.length);
    assert.equal(a.source, "base64");
  });

  it("resolves upload:<sha256>, artifact:<key> and a plain key to the stored artifact", async () => {
    const up = await resolveMediaInput(png.toString("base64"), "image", "image", deps());
    for (const ref of [`upload:${up.sha256}`, `artifact:${up.key}`, up.key]) {
      const r = await resolveMediaInput(ref, "reference_images[1]", "image", deps());
      assert.deepEqual([r.key, r.size, r.content_type, r.source], [up.key, png.length, "image/png", "artifact"]);
    }
  });

  it("rejects references to missing uploads, keys outside uploads/ and outputs/, and the wrong kind", async () => {
    await assert.rejects(resolveMediaInput(`upload:${"ab".repeat(32)}`, "image", "image", deps()), isFarm("VALIDATION_ERROR", "image", "exists"));
    await assert.rejects(resolveMediaInput("artifact:state/jobs.json", "image", "image", deps()), isFarm("VALIDATION_ERROR", "image", "artifact key"));
    await assert.rejects(resolveMediaInput("artifact:uploads/../state/x", "image", "image", deps()), isFarm("VALIDATION_ERROR", "image", "artifact key"));
    const up = await resolveMediaInput(png.toString("base64"), "image", "image", deps());
    await assert.rejects(resolveMediaInput(`artifact:${up.key}`, "audio", "audio", deps()), isFarm("UNSUPPORTED_MEDIA_TYPE", "audio", "kind:audio"));
  });

  it("rejects oversize base64 from its length, before decoding", async () => {
    const huge = "A".repeat(2 * 1024 * 1024); // 1.5 MB decoded, image limit 1 MB
    await assert.rejects(resolveMediaInput(huge, "image_base64", "image", deps()), isFarm("PAYLOAD_TOO_LARGE", "image_base64", "api.inputs.max_image_mb"));
    await assert.rejects(resolveMediaInput(`data:image/png;base64,${huge}`, "image_base64", "image", deps()), isFarm("PAYLOAD_TOO_LARGE", "image_base64"));
  });

  it("rejects non-strings, empty strings, non-base64 data URLs and base64 of non-media", async () => {
    await assert.rejects(resolveMediaInput(42, "image", "image", deps()), isFarm("VALIDATION_ERROR", "image", "type"));
    await assert.rejects(resolveMediaInput("  ", "image", "image", deps()), isFarm("VALIDATION_ERROR", "image", "non-empty"));
    await assert.rejects(resolveMediaInput("data:text/plain,hello", "image", "image", deps()), isFarm("VALIDATION_ERROR", "image", "data URL"));
    await assert.rejects(
      resolveMediaInput(Buffer.from("just some text, not an image").toString("base64"), "image", "image", deps()),
      isFarm("UNSUPPORTED_MEDIA_TYPE", "image", "format"),
    );
  });
});

describe("resolveMediaInput: server paths", () => {
  it("accepts a file inside paths.outputs and stores it as an upload", async () => {
    const r = await resolveMediaInput(path.join(base.paths.outputs, "frame.png"), "clips[0].path", "image", deps());
    assert.equal(r.source, "path");
    assert.match(r.key, /^uploads\/.+\.png$/);
  });

  it("accepts a file in an operator's allowed_input_dirs", async () => {
    const d = deps({}, { paths: { ...base.paths, allowed_input_dirs: [path.join(root, "elsewhere")] } });
    assert.equal((await resolveMediaInput(outside, "image", "image", d)).content_type, "image/png");
  });

  it("rejects ../ traversal, absolute paths outside, and symlinks that point outside", async () => {
    const cases = [
      "../../etc/passwd",
      "/etc/passwd",
      `${base.paths.uploads}/../../../../etc/passwd`,
      `${base.paths.outputs}/../../elsewhere/secret.png`,
      outside,
    ];
    for (const p of cases)
      await assert.rejects(resolveMediaInput(p, "clips[2].path", "image", deps()), isFarm("VALIDATION_ERROR", "clips[2].path", "allowed path"), p);
    await assert.rejects(
      resolveMediaInput(path.join(base.paths.uploads, "link-out.png"), "clips[2].path", "image", deps()),
      isFarm("VALIDATION_ERROR", "clips[2].path", "allowed path"),
    );
    await assert.rejects(
      resolveMediaInput(path.join(base.paths.uploads, "passwd"), "clips[2].path", "image", deps()),
      isFarm("VALIDATION_ERROR", "clips[2].path", "allowed path"),
    );
  });

  it("rejects a missing file and a folder inside the allowed roots", async () => {
    await assert.rejects(resolveMediaInput(path.join(base.paths.outputs, "nope.png"), "image", "image", deps()), isFarm("VALIDATION_ERROR", "image", "exists"));
    await assert.rejects(resolveMediaInput(base.paths.cache, "image", "image", deps()), isFarm("VALIDATION_ERROR", "image", "regular file"));
  });
});

describe("resolveMediaInput: URLs", () => {
  it("refuses URLs when api.inputs.allow_http is off, without connecting", async () => {
    const before = connections;
    await assert.rejects(
      resolveMediaInput(`http://127.0.0.1:${port}/img.png`, "image", "image", deps()),
      isFarm("VALIDATION_ERROR", "image", "api.inputs.allow_http"),
    );
    assert.equal(connections, before);
  });

  it("refuses loopback, metadata, private and unique-local targets before connecting", async () => {
    const before = connections;
    for (const u of [
      `http://127.0.0.1:${port}/img.png`,
      "http://169.254.169.254/latest/meta-data/",
      "http://[::1]/x.png",
      "http://10.0.0.1/x.png",
      "http://[fd00:ec2::254]/",
      "http://2130706433/x.png",
      "http://0x7f.1/x.png",
      "http://[::ffff:127.0.0.1]/x.png",
      `http://localhost:${port}/img.png`,
    ]) {
      await assert.rejects(
        resolveMediaInput(u, "reference_images[0]", "image", deps({ allow_http: true })),
        isFarm("VALIDATION_ERROR", "reference_images[0]", "public address"),
        u,
      );
    }
    assert.equal(connections, before);
  });

  it("refuses a host name whose DNS answer includes a private address", async () => {
    const lookup = async () => [
      { address: "93.184.216.34", family: 4 },
      { address: "127.0.0.1", family: 4 },
    ];
    await assert.rejects(
      resolveMediaInput("http://rebind.example/x.png", "image", "image", deps({ allow_http: true }, { lookup })),
      isFarm("VALIDATION_ERROR", "image", "public address"),
    );
  });

  it("refuses non-http schemes", async () => {
    await assert.rejects(
      resolveMediaInput("file:///etc/passwd", "image", "image", deps({ allow_http: true })),
      isFarm("VALIDATION_ERROR", "image", "url scheme"),
    );
    await assert.rejects(
      resolveMediaInput("ftp://example.com/x.png", "image", "image", deps({ allow_http: true })),
      isFarm("VALIDATION_ERROR", "image", "url scheme"),
    );
  });

  it("fetches from a local server when private addresses are allowed", async () => {
    const r = await resolveMediaInput(`http://127.0.0.1:${port}/img.png`, "image", "image", deps({ allow_http: true, allow_private_addresses: true }));
    assert.equal(r.source, "url");
    assert.equal(r.content_type, "image/png");
    assert.equal(r.size, png.length);
  });

  it("connects to the address it vetted, not to a second DNS answer", async () => {
    // The name is unresolvable by the system resolver: success proves the pinned lookup was used.
    let asked = 0;
    const lookup = async () => {
      asked++;
      return [{ address: "127.0.0.1", family: 4 }];
    };
    const r = await resolveMediaInput(
      `http://farm-test.invalid:${port}/img.png`,
      "image",
      "image",
      deps({ allow_http: true, allow_private_addresses: true }, { lookup }),
    );
    assert.equal(r.content_type, "image/png");
    assert.equal(asked, 1);
  });

  it("follows a redirect, but not endlessly and never to another scheme", async () => {
    const d = deps({ allow_http: true, allow_private_addresses: true });
    assert.equal((await resolveMediaInput(`http://127.0.0.1:${port}/redir`, "image", "image", d)).content_type, "image/png");
    await assert.rejects(resolveMediaInput(`http://127.0.0.1:${port}/loop`, "image", "image", d), isFarm("VALIDATION_ERROR", "image", "redirects"));
    await assert.rejects(resolveMediaInput(`http://127.0.0.1:${port}/to-file`, "image", "image", d), isFarm("VALIDATION_ERROR", "image", "url scheme"));
  });

  it("reports HTTP errors, oversize Content-Length and timeouts as field errors", async () => {
    const d = deps({ allow_http: true, allow_private_addresses: true }, { fetchTimeoutMs: 300 });
    await assert.rejects(resolveMediaInput(`http://127.0.0.1:${port}/missing.png`, "image", "image", d), isFarm("VALIDATION_ERROR", "image", "fetchable"));
    await assert.rejects(resolveMediaInput(`http://127.0.0.1:${port}/big`, "image", "image", d), isFarm("PAYLOAD_TOO_LARGE", "image"));
    await assert.rejects(resolveMediaInput(`http://127.0.0.1:${port}/hang`, "image", "image", d), isFarm("VALIDATION_ERROR", "image", "timeout"));
  });

  it("takes the download timeout from api.inputs.fetch_timeout_ms when the deps set none", async () => {
    const d = deps({ allow_http: true, allow_private_addresses: true, fetch_timeout_ms: 250 }, { fetchTimeoutMs: undefined });
    const t0 = Date.now();
    await assert.rejects(resolveMediaInput(`http://127.0.0.1:${port}/hang`, "image", "image", d), isFarm("VALIDATION_ERROR", "image", "timeout"));
    // The default (30 s) would have held it far longer; this only tells the two apart.
    assert.ok(Date.now() - t0 < 20_000, `took ${Date.now() - t0} ms`);
  });
});
