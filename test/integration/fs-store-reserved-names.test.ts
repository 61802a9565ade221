/**
 * The fs store's own names (`.meta` sidecars, `.part` temp files) are no artifacts: a key
 * naming one is not served, not stat'ed, not written and not deleted, so a half-written body
 * or a sidecar's JSON never leaves by its temp name and a put cannot overwrite another key's type.
 */
import { test } from "vitest";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { FsArtifactStore, isStoreInternalName } from "../../core/artifacts/fs-store.ts";
import { FarmError } from "../../core/errors.ts";

test("temp and sidecar names are refused by get, stat, put, writer and delete; real keys are untouched", async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "nb-reserved-"));
  try {
    const store = new FsArtifactStore(root);
    await store.put("outputs/images/a.bin", Buffer.from("body"), { contentType: "image/png" });
    const meta = "outputs/images/a.bin.meta";
    assert.ok(fs.existsSync(path.join(root, meta)), "the put wrote a sidecar");
    // A temp file as a writer leaves it mid-write (or a dead process did).
    const part = "outputs/images/b.png.abc123.part";
    fs.writeFileSync(path.join(root, part), "half a body");

    for (const key of [meta, part]) {
      assert.ok(isStoreInternalName(key));
      await assert.rejects(store.get(key), (e: unknown) => e instanceof FarmError && e.code === "NOT_FOUND");
      assert.equal(await store.stat(key), null);
      await assert.rejects(
        store.put(key, Buffer.from('{"contentType":"text/html"}')),
        (e: unknown) => e instanceof FarmError && e.code === "VALIDATION_ERROR" && (e.details as { constraint?: string }).constraint === "not_reserved",
      );
      assert.throws(
        () => store.writer(key, {}),
        (e: unknown) => e instanceof FarmError && e.code === "VALIDATION_ERROR",
      );
      await store.delete(key);
    }
    // Nothing above changed the sidecar, the temp file or the artifact's type.
    assert.equal(fs.readFileSync(path.join(root, meta), "utf8"), JSON.stringify({ contentType: "image/png" }));
    assert.equal(fs.readFileSync(path.join(root, part), "utf8"), "half a body");
    assert.equal((await store.stat("outputs/images/a.bin"))?.contentType, "image/png");
    // Names that only contain the words are ordinary keys.
    assert.equal(isStoreInternalName("outputs/images/meta.png"), false);
    assert.equal(isStoreInternalName("outputs/part/x.partial.png"), false);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
