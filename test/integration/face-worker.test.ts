/**
 * The face-api worker thread: a cancelled detection stops the worker (wasm cannot be
 * interrupted) and answers JOB_CANCELLED; the next call starts a new worker and works; a
 * face found in the worker can be embedded in a later call (its landmarks cross the thread
 * boundary as plain points).
 */
import { test } from "vitest";
import assert from "node:assert/strict";
import path from "node:path";
import { createRequire } from "node:module";
import { FaceApiWorkerBackend } from "../../plugins/face/worker/client.ts";
import { FaceApiBackend } from "../../plugins/face/faceapi-backend.ts";
import { decodeImage } from "../../plugins/face/image-decode.ts";
import { FarmError } from "../../core/errors.ts";

const require = createRequire(import.meta.url);
const SAMPLE1 = path.join(path.dirname(require.resolve("@vladmandic/face-api/package.json")), "demo", "sample1.jpg");

test("cancel terminates the worker; the next call gets a fresh one with the same answers as in-process", async () => {
  const image = await decodeImage(SAMPLE1);
  const worker = await FaceApiWorkerBackend.create({ detector: "accurate" });
  try {
    const ac = new AbortController();
    const pending = worker.detect(image, ac.signal);
    setTimeout(() => ac.abort(), 20);
    await assert.rejects(pending, (e: FarmError) => e.code === "JOB_CANCELLED");

    const faces = await worker.detect(image);
    assert.equal(faces.length, 3);
    const local = await (await FaceApiBackend.create({ detector: "accurate" })).detect(image);
    for (const [i, f] of faces.entries()) for (let k = 0; k < 4; k++) assert.ok(Math.abs(f.bbox[k]! - local[i]!.bbox[k]!) < 0.5);

    // Embedding in a later call, from the face as it came back over the thread boundary.
    const a = await worker.embed(image, faces[0]!);
    const b = await (await FaceApiBackend.create()).embed(image, local[0]!);
    let dot = 0;
    for (let k = 0; k < a.length; k++) dot += a[k]! * b[k]!;
    assert.ok(dot > 0.999, `worker vs in-process embedding cosine ${dot}`);
  } finally {
    await worker.dispose();
  }
});
