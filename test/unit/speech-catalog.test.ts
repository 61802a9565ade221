/** models/whisper.yaml and models/silero-vad.yaml say what the speech plugin's manifest serves. */
import { test } from "vitest";
import assert from "node:assert/strict";
import { loadCatalog } from "../../models/catalog.ts";
import { manifest } from "../../plugins/speech/manifest.ts";

test("catalog entries and the speech manifest agree: ids, job types, files, VRAM", () => {
  const families = loadCatalog().filter((f) => f.family === "whisper" || f.family === "silero-vad");
  assert.equal(families.length, 2);
  const entries = families.flatMap((f) => f.models);
  assert.deepEqual(entries.map((m) => m.id).sort(), manifest.models.map((m) => m.id).sort());
  for (const m of manifest.models) {
    const e = entries.find((x) => x.id === m.id)!;
    assert.deepEqual(
      e.files.map((f) => f.file),
      m.files,
      m.id,
    );
    assert.equal(e.vram_mb, m.vram_mb, m.id);
    const jt = manifest.job_types.find((j) => j.models?.includes(m.id))!;
    assert.deepEqual(e.job_types, [jt.type], m.id);
  }
});
