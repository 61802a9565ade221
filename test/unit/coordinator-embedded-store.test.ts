import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, it } from "vitest";
import { EmbeddedJobStore } from "../../coordinator/stores/embedded-store.ts";
import type { JobStore } from "../../coordinator/job-store.ts";
import { makeJob, runJobStoreContract } from "./coordinator-store-contract.ts";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "nb-embedded-store-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const dirs = new WeakMap<JobStore, string>();
let k = 0;

runJobStoreContract("embedded", {
  async open() {
    const dir = path.join(root, `s${k++}`);
    const s = await EmbeddedJobStore.open({ dir });
    dirs.set(s, dir);
    return s;
  },
  async reopen(store) {
    const dir = dirs.get(store)!;
    await store.close();
    const s = await EmbeddedJobStore.open({ dir });
    dirs.set(s, dir);
    return s;
  },
});

describe("EmbeddedJobStore journal", () => {
  it("compacts into a snapshot when the journal grows and loses nothing", async () => {
    const dir = path.join(root, "compact");
    let s = new EmbeddedJobStore({ dir, compactAfterLines: 50 });
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) {
      const j = makeJob({ type: i % 2 ? "odd" : "even" });
      ids.push(j.id);
      await s.create(j);
      if (i % 3 === 0) await s.transition(j.id, ["pending"], { status: "cancelled" });
      await new Promise((r) => setImmediate(r)); // let the buffered journal flush
    }
    await s.close();
    const journalLines = fs.readFileSync(path.join(dir, "jobs.journal.jsonl"), "utf8").split("\n").filter(Boolean).length;
    assert.ok(fs.existsSync(path.join(dir, "jobs.snapshot.jsonl")), "a snapshot was written");
    assert.ok(journalLines < 260, `journal was truncated (has ${journalLines} lines for 267 writes)`);
    s = new EmbeddedJobStore({ dir });
    const page = await s.list({ limit: 1000, offset: 0 });
    assert.equal(page.total, 200);
    assert.equal((await s.list({ status: "cancelled", limit: 1000, offset: 0 })).total, 67);
    assert.deepEqual(
      page.jobs.map((j) => j.id),
      [...ids].reverse(),
    );
    await s.close();
  });

  it("skips a line torn by a crash and keeps everything before it", async () => {
    const dir = path.join(root, "torn");
    const s = new EmbeddedJobStore({ dir });
    const a = makeJob();
    await s.create(a);
    await s.close();
    fs.appendFileSync(path.join(dir, "jobs.journal.jsonl"), '{"s":0,"j":{"id":"half');
    const again = new EmbeddedJobStore({ dir });
    assert.deepEqual(await again.get(a.id), a);
    assert.equal((await again.list({ limit: 10, offset: 0 })).total, 1);
    const b = makeJob();
    await again.create(b);
    await again.close();
    const third = new EmbeddedJobStore({ dir });
    assert.deepEqual(await third.get(b.id), b, "a write after the torn line is not glued to it");
    await third.close();
  });

  it("writes without close survive a reopen once the event loop turned (no fsync needed)", async () => {
    const dir = path.join(root, "noclose");
    const s = new EmbeddedJobStore({ dir });
    const a = makeJob();
    await s.create(a);
    await new Promise((r) => setImmediate(r));
    const reader = new EmbeddedJobStore({ dir }); // as a restarted process would
    assert.deepEqual(await reader.get(a.id), a);
    await reader.close();
    await s.close();
  });

  it("refuses a folder another live process holds, and takes over a dead one's lock", async () => {
    const dir = path.join(root, "locked");
    fs.mkdirSync(dir, { recursive: true });
    const lock = path.join(dir, "jobs.lock");
    fs.writeFileSync(lock, String(process.ppid)); // a live process that is not us
    assert.throws(() => new EmbeddedJobStore({ dir }), new RegExp(`is in use by process ${process.ppid}`));
    fs.writeFileSync(lock, "999999999"); // no such process
    const s = new EmbeddedJobStore({ dir });
    assert.equal(fs.readFileSync(lock, "utf8"), String(process.pid));
    await s.close();
    assert.equal(fs.existsSync(lock), false);
  });
});
