/**
 * Work cap (`plugins.face.max_side`): a photo longer than the cap is detected on a shrunk
 * copy and the boxes come back in source pixels, matching the uncapped run; bad config values
 * are refused naming the key.
 */
import { afterAll, test } from "vitest";
import assert from "node:assert/strict";
import path from "node:path";
import { createRequire } from "node:module";
import plugin, { jobSettings } from "../../plugins/face/index.ts";
import { iou } from "../../plugins/face/geometry.ts";
import { FarmError } from "../../core/errors.ts";
import { makeTaskContext } from "../helpers/task-context.ts";

const require = createRequire(import.meta.url);
const SAMPLE1 = path.join(path.dirname(require.resolve("@vladmandic/face-api/package.json")), "demo", "sample1.jpg");
const full = makeTaskContext();
const capped = makeTaskContext({ artifacts: full.artifacts, config: { max_side: 960 } });
afterAll(() => {
  full.cleanup();
  capped.cleanup();
});

test("max_side 960 on a 1920x1280 photo: same faces, boxes in source pixels", async () => {
  await plugin.init!({ logger: full.logger, modelsDir: full.modelsDir, config: {}, gpus: [] });
  await full.artifacts.putFile("cap/s1.jpg", SAMPLE1);
  const params = { image: "cap/s1.jpg", detector: "accurate", return_landmarks: false };
  const a = await plugin.run({ job_id: "c1", type: "face.detect", params, attempt: 1 }, full);
  const b = await plugin.run({ job_id: "c2", type: "face.detect", params, attempt: 1 }, capped);
  assert.deepEqual(b.image_size, [1920, 1280]);
  assert.equal(b.face_count, a.face_count);
  const boxes = (r: Record<string, unknown>) => (r.faces as { bbox: [number, number, number, number] }[]).map((f) => f.bbox);
  for (const box of boxes(b))
    assert.ok(
      boxes(a).some((x) => iou(x, box) > 0.75),
      `capped box ${box} has no uncapped match`,
    );
});

test("bad work-cap config is a VALIDATION_ERROR naming the key", () => {
  assert.throws(
    () => jobSettings({ max_side: 100 }),
    (e: FarmError) => e.code === "VALIDATION_ERROR" && e.details?.field === "max_side",
  );
  assert.throws(
    () => jobSettings({ rotation_search: "no" }),
    (e: FarmError) => e.code === "VALIDATION_ERROR" && e.details?.field === "rotation_search",
  );
  assert.deepEqual(jobSettings({}), { maxSide: 4096, rotationSearch: true });
});
