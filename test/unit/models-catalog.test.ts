import { test } from "vitest";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { catalogModels, loadCatalog, parseFamily } from "../../models/catalog.ts";

test("every family file in models/ validates, ids are unique, and the spec's ComfyUI models are there with a cited VRAM figure", () => {
  const fams = loadCatalog();
  assert.ok(fams.length >= 3);
  const ids = fams.flatMap((f) => f.models.map((m) => m.id));
  assert.equal(new Set(ids).size, ids.length);
  const comfy = catalogModels({ runtime: "comfyui" });
  for (const id of ["sdxl-base-1.0", "sdxl-turbo", "flux.1-schnell", "ltx-video-0.9.7-distilled"]) {
    const m = comfy.find((x) => x.id === id);
    assert.ok(m, `${id} in the catalog`);
    assert.ok(m.vram_mb > 0 && m.vram_source.includes("http"), `${id} cites its VRAM figure`);
    assert.ok(
      m.files.every((f) => f.folder),
      `${id}: ComfyUI files name their models folder`,
    );
  }
});

test("a broken family file is refused naming the file and the fields", () => {
  const bad =
    "family: x\nmodels:\n  - id: m\n    runtime: cuda\n    job_types: []\n    files: [{folder: checkpoints, file: ../../etc/passwd}]\n    vram_mb: -1\n    license: MIT\n    source: http://insecure\n";
  assert.throws(
    () => parseFamily(bad, "x.yaml"),
    (err: Error & { code?: string }) => {
      assert.equal(err.code, "VALIDATION_ERROR");
      for (const re of [
        /models\/x\.yaml/,
        /\/models\/0 must have required property 'vram_source'/,
        /\/models\/0\/runtime must be equal to one of the allowed values/,
        /\/models\/0\/job_types must NOT have fewer than 1 items/,
        /\/models\/0\/files\/0\/file must match pattern/,
        /\/models\/0\/vram_mb must be >= 0/,
        /\/models\/0\/source must match pattern/,
      ]) {
        assert.match(err.message, re);
      }
      return true;
    },
  );
  assert.throws(() => parseFamily("family: [", "y.yaml"), /models\/y\.yaml: not valid YAML/);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nb-catalog-"));
  const one = (fam: string) =>
    `family: ${fam}\nmodels:\n  - {id: same, runtime: onnx, job_types: [a.b], files: [], vram_mb: 0, vram_source: none, license: MIT, source: "https://x"}\n`;
  fs.writeFileSync(path.join(dir, "a.yaml"), one("a"));
  fs.writeFileSync(path.join(dir, "b.yaml"), one("b"));
  assert.throws(() => loadCatalog(dir), /model id 'same' is in both models\/a\.yaml and models\/b\.yaml/);
  fs.rmSync(dir, { recursive: true, force: true });
});
