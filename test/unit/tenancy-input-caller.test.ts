/**
 * api/inputs/input-caller.ts without a farm: which jobs an output key names, and the
 * owner check over raw params (paths named in the error, signed links, the reference cap).
 */
import { describe, it } from "vitest";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { assertOutputAllowed, assertParamsOutputsAllowed, jobIdsInKey, type InputCaller } from "../../api/inputs/input-caller.ts";
import { FarmError } from "../../core/errors.ts";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { resolveMediaInput } from "../../api/inputs/resolve-input.ts";
import { FsArtifactStore } from "../../core/artifacts/fs-store.ts";

const mine = randomUUID();
const theirs = randomUUID();
const caller = (over: Partial<InputCaller> = {}): InputCaller & { asked: string[] } => {
  const asked: string[] = [];
  return {
    unrestricted: false,
    asked,
    canReadJob: async (id) => {
      asked.push(id);
      return id === mine || id === `${mine}-2`;
    },
    checkLink: (p, exp, sig) => (sig === "good" && p.startsWith("/outputs/") ? (exp === "1" ? "expired" : "ok") : "bad_signature"),
    ...over,
  };
};
const isFarm = (code: string, field: string, constraint: string) => (e: unknown) => {
  assert.ok(e instanceof FarmError, String(e));
  assert.equal(e.code, code);
  assert.equal(e.details?.field, field);
  assert.equal(e.details?.constraint, constraint);
  return true;
};

describe("jobIdsInKey", () => {
  it("finds the job id however a plugin names its file, children before their parents", () => {
    assert.deepEqual(jobIdsInKey(`outputs/images/${mine}.png`), [mine]);
    assert.deepEqual(jobIdsInKey(`outputs/images/${mine}.lease3.png`), [mine]);
    assert.deepEqual(jobIdsInKey(`outputs/music/musicgen-${mine}.mp3`), [mine]);
    assert.deepEqual(jobIdsInKey(`outputs/images/${mine}-2.png`), [`${mine}-2`, mine]);
    assert.deepEqual(jobIdsInKey(`outputs/images/${mine}-2-10.png`), [`${mine}-2-10`, `${mine}-2`, mine]);
    assert.deepEqual(jobIdsInKey(`outputs/images/${mine.toUpperCase()}.png`), [mine]);
    assert.deepEqual(jobIdsInKey("outputs/images/cat.png"), []);
  });

  it("looks up at most a few candidates whatever the key holds", () => {
    const many = Array.from({ length: 20 }, () => randomUUID()).join("_");
    assert.equal(jobIdsInKey(`outputs/x/${many}.png`).length, 6);
  });
});

describe("assertOutputAllowed", () => {
  it("passes the owner's key and a child's; refuses another's, naming the field; an unrestricted or absent caller is not asked", async () => {
    await assertOutputAllowed(`outputs/images/${mine}.png`, "image", caller());
    await assertOutputAllowed(`outputs/images/${mine}-2.png`, "image", caller());
    await assert.rejects(assertOutputAllowed(`outputs/images/${theirs}.png`, "clips[1].path", caller()), isFarm("FORBIDDEN", "clips[1].path", "owned_output"));
    await assert.rejects(assertOutputAllowed("outputs/images/cat.png", "image", caller()), isFarm("FORBIDDEN", "image", "owned_output"));
    const admin = caller({ unrestricted: true });
    await assertOutputAllowed(`outputs/images/${theirs}.png`, "image", admin);
    assert.deepEqual(admin.asked, []);
    await assertOutputAllowed(`outputs/images/${theirs}.png`, "image", undefined);
  });
});

describe("assertParamsOutputsAllowed", () => {
  it("checks every output named in nested params, naming its path; uploads and plain strings are not outputs", async () => {
    const c = caller();
    await assertParamsOutputsAllowed(
      { a: `outputs/i/${mine}.png`, b: [{ c: `artifact:outputs/i/${mine}.png` }], d: "uploads/ab/x.png", e: "hello outputs/" },
      c,
    );
    assert.equal(c.asked.length, 2);
    await assert.rejects(
      assertParamsOutputsAllowed({ clips: [{ path: "ok" }, { path: `/outputs/i/${theirs}.png` }] }, caller()),
      isFarm("FORBIDDEN", "params.clips[1].path", "owned_output"),
    );
  });

  it("takes a valid signed link without asking about the job; a bad or expired one is refused", async () => {
    const c = caller();
    await assertParamsOutputsAllowed({ image: `/outputs/i/${theirs}.png?exp=9&sig=good` }, c);
    assert.deepEqual(c.asked, []);
    await assert.rejects(
      assertParamsOutputsAllowed({ image: `/outputs/i/${theirs}.png?exp=9&sig=bad` }, caller()),
      isFarm("FORBIDDEN", "params.image", "signed_link"),
    );
    await assert.rejects(
      assertParamsOutputsAllowed({ image: `/outputs/i/${theirs}.png?exp=1&sig=good` }, caller()),
      isFarm("FORBIDDEN", "params.image", "not_expired"),
    );
  });

  it("refuses more than 64 output references at once (bounded look-ups), and skips unrestricted callers", async () => {
    const refs = Array.from({ length: 70 }, () => `outputs/i/${mine}.png`);
    await assert.rejects(assertParamsOutputsAllowed({ refs }, caller()), isFarm("VALIDATION_ERROR", "params", "max_output_refs:64"));
    await assertParamsOutputsAllowed({ refs, x: `outputs/i/${theirs}.png` }, caller({ unrestricted: true }));
  });
});

describe("server paths to outputs", () => {
  it("a path into the fs store's outputs is checked even when paths.outputs points elsewhere", async () => {
    const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "nb-tenancy-path-")));
    try {
      const data = path.join(root, "data");
      fs.mkdirSync(path.join(data, "outputs", "i"), { recursive: true });
      for (const d of ["up", "out", "cache"]) fs.mkdirSync(path.join(root, d));
      const file = path.join(data, "outputs", "i", `${theirs}.png`);
      fs.writeFileSync(
        file,
        await sharp({ create: { width: 4, height: 4, channels: 3, background: { r: 9, g: 9, b: 9 } } })
          .png()
          .toBuffer(),
      );
      const deps = {
        store: new FsArtifactStore(data),
        // The operator allowed the whole data folder as an input folder, and moved paths.outputs.
        paths: { uploads: path.join(root, "up"), outputs: path.join(root, "out"), cache: path.join(root, "cache"), allowed_input_dirs: [data], data_dir: data },
        inputs: {
          allow_http: false,
          allow_private_addresses: false,
          max_image_mb: 1,
          max_audio_mb: 1,
          max_video_mb: 1,
          max_image_pixels: 1e8,
          fetch_timeout_ms: 1000,
        },
        tmpDir: root,
      };
      await assert.rejects(resolveMediaInput(file, "image", "image", { ...deps, caller: caller() }), isFarm("FORBIDDEN", "image", "owned_output"));
      const admin = await resolveMediaInput(file, "image", "image", { ...deps, caller: caller({ unrestricted: true }) });
      assert.match(admin.key, /^uploads\//);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
