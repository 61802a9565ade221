import { test } from "vitest";
import assert from "node:assert/strict";
import { Type } from "typebox";
import { parseParams } from "../../core/job-types/parse.ts";
import { ImageGenerateParams } from "../../core/job-types/image-generate.ts";
import { FarmError } from "../../core/errors.ts";

test("parseParams' compiled check: valid params return with defaults, invalid ones still name the field, in any order on one schema", () => {
  const schema = Type.Object({ n: Type.Optional(Type.Integer({ minimum: 1, default: 3 })), s: Type.String({ maxLength: 4 }) }, { additionalProperties: false });
  const frozen = Object.freeze({ s: "ok" });
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(parseParams(schema, frozen), { s: "ok", n: 3 });
    assert.throws(
      () => parseParams(schema, { s: "too long" }),
      (e: unknown) => e instanceof FarmError && e.details?.field === "s" && e.details?.constraint === "maxLength",
    );
    assert.throws(
      () => parseParams(schema, { s: "ok", extra: 1 }),
      (e: unknown) => e instanceof FarmError && e.details?.field === "extra",
    );
  }
  assert.deepEqual(frozen, { s: "ok" }, "the input is not written");
  // The real image.generate schema through the fast path: the request's fields come back, defaults filled.
  const p = parseParams(ImageGenerateParams, { prompt: "a lighthouse", width: 512, height: 512, steps: 4, seed: 7 }) as Record<string, unknown>;
  assert.deepEqual([p.prompt, p.width, p.height, p.steps, p.seed], ["a lighthouse", 512, 512, 4, 7]);
  assert.throws(
    () => parseParams(ImageGenerateParams, { prompt: "a lighthouse", width: "wide" }),
    (e: unknown) => e instanceof FarmError && e.details?.field === "width",
  );
});
