/**
 * Artifact retention on a real filesystem store: outputs and uploads older than their
 * kind's limit are deleted, newer ones and other prefixes are kept, 0 keeps forever.
 */
import { test } from "vitest";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { FsArtifactStore } from "../../core/artifacts/fs-store.ts";
import { ArtifactSweeper, retentionRules } from "../../core/artifacts/retention.ts";
import { ManualClock } from "../../core/clock.ts";
import { silentLogger } from "../../core/logger.ts";
import { openArtifactStore } from "../../core/artifacts/index.ts";
import { buildConfig } from "../../core/config/load.ts";
import { startS3 } from "../../deploy/servers/infra.ts";
import type { ArtifactStore } from "../../core/artifact-store.ts";

const HOUR = 3_600_000;

/** A sweeper over `store` whose clock reads `now` (or is the given clock), with the given hours per kind (0 keeps that kind forever). */
function sweeperFor(store: ArtifactStore, now: number | ManualClock, hours: { outputs_h: number; uploads_h: number }, intervalMs = 1000): ArtifactSweeper {
  const clock = typeof now === "number" ? new ManualClock(now) : now;
  return new ArtifactSweeper({ store, clock, logger: silentLogger, rules: retentionRules(hours), intervalMs });
}

async function storeWith(ages: Record<string, number>, now: number): Promise<FsArtifactStore> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "nb-retention-"));
  const store = new FsArtifactStore(root);
  for (const [key, ageH] of Object.entries(ages)) {
    await store.put(key, Buffer.from(`bytes of ${key}`));
    const t = new Date(now - ageH * HOUR);
    fs.utimesSync(path.join(root, key), t, t);
  }
  return store;
}

test("outputs and uploads past their retention are deleted; newer ones and other prefixes stay", async () => {
  const now = Date.UTC(2026, 11, 4, 12);
  const store = await storeWith(
    {
      "outputs/images/old.png": 800,
      "outputs/images/new.png": 10,
      "outputs/videos/edge.mp4": 719,
      "uploads/ab/old.mp3": 200,
      "uploads/cd/new.mp3": 100,
      "cache/keep.bin": 5000,
    },
    now,
  );
  const clock = new ManualClock(now);
  const sweeper = sweeperFor(store, clock, { outputs_h: 720, uploads_h: 168 });
  const res = await sweeper.sweep();
  assert.deepEqual(
    res.map((r) => [r.prefix, r.deleted, r.failed]),
    [
      ["outputs/", 1, 0],
      ["uploads/", 1, 0],
    ],
  );
  assert.equal(res[0]!.bytes, Buffer.byteLength("bytes of outputs/images/old.png"));
  const left = (await store.list("")).map((i) => i.key).sort();
  assert.deepEqual(left, ["cache/keep.bin", "outputs/images/new.png", "outputs/videos/edge.mp4", "uploads/cd/new.mp3"]);
  // Two hours later the 719 h output has passed 720 h too.
  clock.advance(2 * HOUR);
  await sweeper.sweep();
  assert.equal(await store.stat("outputs/videos/edge.mp4"), null);
  assert.ok(await store.stat("outputs/images/new.png"));
});

test("0 keeps a kind forever, and a sweeper with every rule at 0 deletes no artifact", async () => {
  const now = Date.UTC(2026, 11, 4, 12);
  const store = await storeWith({ "outputs/a.png": 10_000, "uploads/b.png": 10_000 }, now);
  const sweeper = sweeperFor(store, now, { outputs_h: 0, uploads_h: 24 });
  const res = await sweeper.sweep();
  assert.deepEqual(
    res.map((r) => r.prefix),
    ["uploads/"],
  );
  assert.ok(await store.stat("outputs/a.png"));
  assert.equal(await store.stat("uploads/b.png"), null);
  const idle = sweeperFor(store, now, { outputs_h: 0, uploads_h: 0 }, 1);
  idle.start();
  await new Promise((r) => setTimeout(r, 20));
  assert.ok(await store.stat("outputs/a.png"), "nothing swept");
  await idle.stop();
});

test("temp files of writes a dead process left (older than an hour) are swept; a live write's, sidecars and artifacts stay", async () => {
  const now = Date.UTC(2026, 11, 4, 12);
  const store = await storeWith({ "outputs/images/a.png": 1, "uploads/ab/c.mp3": 3 }, now);
  await store.put("outputs/images/t.bin", Buffer.from("typed"), { contentType: "image/png" }); // has a .meta sidecar
  const root = store.root;
  const age = (f: string, h: number) => fs.utimesSync(f, new Date(now - h * HOUR), new Date(now - h * HOUR));
  const orphan = path.join(root, "outputs/images/a.png.deadbeef0001.part");
  const orphanMeta = path.join(root, "outputs/images/t.bin.meta.deadbeef0002.part");
  const live = path.join(root, "outputs/videos/v.mp4.deadbeef0003.part");
  fs.mkdirSync(path.dirname(live), { recursive: true });
  fs.writeFileSync(orphan, Buffer.alloc(1000, 1));
  fs.writeFileSync(orphanMeta, "{}");
  fs.writeFileSync(live, Buffer.alloc(10, 2));
  age(orphan, 2);
  age(orphanMeta, 30);
  age(live, 0.5); // written to half an hour ago: a slow write may still be under way
  age(path.join(root, "outputs/images/t.bin.meta"), 5000);
  // Rules that delete nothing here: the temp sweep runs on its own.
  const sweeper = sweeperFor(store, now, { outputs_h: 0, uploads_h: 0 });
  await sweeper.sweep();
  assert.equal(fs.existsSync(orphan), false);
  assert.equal(fs.existsSync(orphanMeta), false);
  assert.equal(fs.existsSync(live), true);
  assert.equal(fs.existsSync(path.join(root, "outputs/images/t.bin.meta")), true, "a sidecar is no temp file");
  assert.equal((await store.stat("outputs/images/t.bin"))?.contentType, "image/png");
  assert.deepEqual((await store.list("")).map((i) => i.key).sort(), ["outputs/images/a.png", "outputs/images/t.bin", "uploads/ab/c.mp3"]);
  // The store's own call reports what it removed; the live file goes once it is an hour old.
  assert.deepEqual(await store.sweepTemp(now - 0.25 * HOUR), { deleted: 1, bytes: 10 });
  assert.equal(fs.existsSync(live), false);
});

test("the same sweep on an S3 store (s3rver): objects older than the limit by the clock are deleted", async () => {
  const s3 = await startS3();
  try {
    const cfg = buildConfig({
      mode: "distributed",
      artifacts: { s3: { endpoint: "127.0.0.1", port: s3.port, bucket: "retention-test", access_key: "S3RVER", secret_key: "S3RVER" } },
    });
    const store = await openArtifactStore(cfg);
    await store.put("outputs/images/a.png", Buffer.from("a"));
    await store.put("uploads/ab/b.mp3", Buffer.from("bb"));
    // S3 sets modification times itself: move the clock instead of the objects.
    const clock = new ManualClock(Date.now() + 200 * HOUR);
    const sweeper = sweeperFor(store, clock, { outputs_h: 720, uploads_h: 168 });
    const res = await sweeper.sweep();
    assert.deepEqual(
      res.map((r) => [r.prefix, r.deleted]),
      [
        ["outputs/", 0],
        ["uploads/", 1],
      ],
    );
    assert.ok(await store.stat("outputs/images/a.png"));
    assert.equal(await store.stat("uploads/ab/b.mp3"), null);
    await store.close?.();
  } finally {
    await s3.stop();
  }
});
