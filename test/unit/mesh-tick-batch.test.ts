import { test } from "vitest";
import assert from "node:assert/strict";
import { TickBatcher, TickQueue, settleBatch } from "../../mesh/tick-batch.ts";
import { FarmError } from "../../core/errors.ts";

test("items added in one turn travel as one batch; each caller gets its own answer or error", async () => {
  const sent: number[][] = [];
  const b = new TickBatcher<number, number>(async (items) => {
    sent.push(items);
    return settleBatch(items, (n: number) => {
      if (n < 0) throw new FarmError("VALIDATION_ERROR", "negative", { field: "n", constraint: "min" });
      return n * 2;
    });
  });
  const results = await Promise.allSettled([b.add(1), b.add(-1), b.add(3)]);
  assert.deepEqual(sent, [[1, -1, 3]]);
  assert.deepEqual(results[0], { status: "fulfilled", value: 2 });
  assert.equal(results[1].status, "rejected");
  const err = (results[1] as PromiseRejectedResult).reason as FarmError;
  assert.ok(err instanceof FarmError);
  assert.equal(err.code, "VALIDATION_ERROR");
  assert.equal(err.details?.field, "n");
  assert.deepEqual(results[2], { status: "fulfilled", value: 6 });
  // A later turn is a new batch.
  assert.equal(await b.add(5), 10);
  assert.deepEqual(sent, [[1, -1, 3], [5]]);
});

test("a batch never exceeds its maximum size, and a failed message rejects every item in it", async () => {
  const sizes: number[] = [];
  const b = new TickBatcher<number, number>(async (items) => {
    sizes.push(items.length);
    if (items.includes(99)) throw new FarmError("TIMEOUT", "receiver did not answer");
    return items.map((n) => ({ ok: n }));
  }, 4);
  const ok = await Promise.all(Array.from({ length: 10 }, (_, i) => b.add(i)));
  assert.deepEqual(ok, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(sizes, [4, 4, 2]);
  const failed = await Promise.allSettled([b.add(1), b.add(99)]);
  assert.deepEqual(
    failed.map((r) => r.status),
    ["rejected", "rejected"],
  );
  assert.equal(((failed[0] as PromiseRejectedResult).reason as FarmError).code, "TIMEOUT");
});

test("a reply list shorter than the batch rejects the unanswered items instead of leaving them hanging", async () => {
  const b = new TickBatcher<number, number>(async () => [{ ok: 1 }]);
  const r = await Promise.allSettled([b.add(1), b.add(2)]);
  assert.equal(r[0].status, "fulfilled");
  assert.equal(r[1].status, "rejected");
});

test("settleBatch refuses a payload that is not a list", async () => {
  await assert.rejects(
    settleBatch({ nope: 1 }, (x) => x),
    (e: FarmError) => e.code === "VALIDATION_ERROR" && e.details?.field === "items",
  );
});

test("TickQueue hands over everything pushed in one turn, in order", async () => {
  const got: string[][] = [];
  const q = new TickQueue<string>((items) => got.push(items), 3);
  for (const s of ["a", "b", "c", "d"]) q.push(s);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(got, [["a", "b", "c"], ["d"]]);
});

test("an item answered with nothing (undefined, lost in serialisation) still resolves", async () => {
  const b = new TickBatcher<number, void>(async (items) => {
    const replies = await settleBatch(items, () => undefined);
    // What arrives after a binary round trip that drops undefined values: {} per item.
    return JSON.parse(JSON.stringify(replies.map(() => ({ ok: undefined }))));
  });
  assert.deepEqual(await Promise.all([b.add(1), b.add(2)]), [undefined, undefined]);
});
