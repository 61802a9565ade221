/** The API's whole-percent progress (api/job-view.ts): rounded down, kept in 0..100. */
import assert from "node:assert/strict";
import { test } from "vitest";
import { wholeProgress } from "../../api/job-view.ts";

test("progress is rounded down to a whole percent, so a running job never shows 100 before it completes", () => {
  assert.equal(wholeProgress(99.5), 99);
  assert.equal(wholeProgress(99.99), 99);
  assert.equal(wholeProgress(100), 100);
  assert.equal(wholeProgress(66.67), 66);
  assert.equal(wholeProgress(33.33), 33);
  assert.equal(wholeProgress(0), 0);
  // A producer's rounding error past the ends stays inside them.
  assert.equal(wholeProgress(100.0000001), 100);
  assert.equal(wholeProgress(-0.2), 0);
});
