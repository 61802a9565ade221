/**
 * image.character on the real Coordinator and embedded store (fake dispatcher standing in
 * for the agents): generate with the character's photos in face_ref mode, embed the face,
 * compare with core/characters' verify, regenerate with a new seed below the threshold,
 * report metadata.character; 503 without a face_ref node; cancel; restart in the middle.
 */
import assert from "node:assert/strict";
import { describe, it } from "vitest";
import { FarmError } from "../../core/errors.ts";
import { buildCharacter } from "../../core/characters/logic.ts";
import { thresholdFor } from "../../core/characters/thresholds.ts";
import { harness, harnessPerFile, type Harness } from "../unit/coordinator-harness.ts";
import { IMAGE_GENERATE } from "../../core/job-types/image-generate.ts";
import { FACE_EMBED } from "../../plugins/face/job-types.ts";

const h = harnessPerFile();
const FACE = "human-faceres";
const NODE = {
  id: "gpu",
  max: 4,
  types: ["image.generate", "face.embed"],
  models: { "image.generate": ["sdxl-base-1.0", "sdxl-base-1.0:face_ref"], "face.embed": [FACE] },
};
const unit = (i: number, dim = 8) => Array.from({ length: dim }, (_, j) => (j === i ? 1 : 0));
const character = buildCharacter("Ann", "", FACE, [
  { embedding: unit(0), source: "uploads/ann-1.png" },
  { embedding: unit(0), source: "uploads/ann-2.png" },
]);
const submit = (x: Harness, attempts = 3, generate: Record<string, unknown> = { prompt: "Ann on a beach", model: "sdxl-base-1.0", width: 512, height: 512 }) =>
  x.coord.submit({ type: "image.character", params: { generate, character, attempts } });

/** Complete step `id` (running on node "gpu", token 1) and let the flow take its next step. */
async function complete(x: Harness, id: string, result: Record<string, unknown>) {
  await x.coord.reportCompleted({ node_id: "gpu", job_id: id, token: 1, result });
  await new Promise((r) => setTimeout(r, 20));
  await x.settle();
}
const gen = (x: Harness, id: string) =>
  complete(x, id, {
    image_url: `/outputs/images/${id}.png`,
    metadata: { model: "sdxl-base-1.0", resolution: "512x512", generation_time: 1.5, seed: x.dispatcher.last(id).task.params.seed },
  });
const embed = (x: Harness, id: string, embedding: number[]) => complete(x, id, { embedding, embedding_dim: embedding.length, model: FACE });

describe("image.character: generate, verify the face, regenerate", () => {
  it("is accepted where nodes advertise the image and face params schemas: the face.embed probe at submit is no params check (its image comes later)", async () => {
    const x = await h();
    await x.heartbeat({ ...NODE, param_schemas: { "image.generate": IMAGE_GENERATE.params, "face.embed": FACE_EMBED.params } });
    const p = await submit(x);
    await x.settle();
    assert.equal(x.dispatcher.last(`${p.id}-g1`).task.type, "image.generate");
    // A generation setting the image schema refuses is still a 400 at submit, naming it.
    await assert.rejects(submit(x, 3, { prompt: "Ann", model: "sdxl-base-1.0", width: 100 }), (e: FarmError) => e.details?.field === "params.width");
  });

  it("regenerates with a new seed below the threshold and reports the match", async () => {
    const x = await h();
    await x.heartbeat(NODE);
    const p = await submit(x);
    await x.settle();
    const g1 = x.dispatcher.last(`${p.id}-g1`).task;
    assert.equal(g1.type, "image.generate");
    assert.deepEqual(g1.params.reference_images, ["uploads/ann-1.png", "uploads/ann-2.png"]);
    assert.equal(g1.params.mode, "face_ref");
    assert.equal(typeof g1.params.seed, "number");
    assert.equal(g1.params.prompt, "Ann on a beach");
    await gen(x, `${p.id}-g1`);
    const e1 = x.dispatcher.last(`${p.id}-e1`).task;
    assert.deepEqual(e1.params, { image: `outputs/images/${p.id}-g1.png`, model: FACE });
    await embed(x, `${p.id}-e1`, unit(3)); // someone else: similarity 0
    const g2 = x.dispatcher.last(`${p.id}-g2`).task;
    assert.notEqual(g2.params.seed, g1.params.seed, "a new seed");
    assert.match((await x.coord.get(p.id)).message ?? "", /attempt 1 similarity 0\.000 < .*regenerating with a new seed/);
    await gen(x, `${p.id}-g2`);
    await embed(x, `${p.id}-e2`, [0.95, 0.3, 0, 0, 0, 0, 0, 0]);
    const done = await x.coord.get(p.id);
    assert.equal(done.status, "completed");
    assert.equal(done.result?.image_url, `/outputs/images/${p.id}-g2.png`);
    const meta = done.result?.metadata as {
      seed: number;
      character: { similarity: number; threshold: number; attempts: number; matched: boolean; character_id: string };
    };
    assert.equal(meta.seed, g2.params.seed);
    assert.equal(meta.character.character_id, character.character_id);
    assert.equal(meta.character.matched, true);
    assert.equal(meta.character.attempts, 2);
    assert.equal(meta.character.threshold, thresholdFor(FACE).threshold);
    assert.ok(Math.abs(meta.character.similarity - 0.9536) < 1e-3, String(meta.character.similarity));
    assert.equal(x.events.filter((e) => e.job_id === p.id && e.type === "completed").length, 1);
  });

  it("after the last attempt: the most similar image with matched false; an output without a face counts as a miss", async () => {
    const x = await h();
    await x.heartbeat(NODE);
    const p = await submit(x, 3);
    await x.settle();
    await gen(x, `${p.id}-g1`);
    await embed(x, `${p.id}-e1`, [0.2, 0.98, 0, 0, 0, 0, 0, 0]);
    await gen(x, `${p.id}-g2`);
    await x.coord.reportFailed({
      node_id: "gpu",
      job_id: `${p.id}-e2`,
      token: 1,
      error: { code: "VALIDATION_ERROR", message: "no face found in image" },
      retryable: false,
    });
    await new Promise((r) => setTimeout(r, 20));
    await x.settle();
    await gen(x, `${p.id}-g3`);
    await embed(x, `${p.id}-e3`, unit(5));
    const done = await x.coord.get(p.id);
    assert.equal(done.status, "completed");
    const c = (done.result?.metadata as { character: { matched: boolean; attempts: number; similarity: number; tried: { similarity: number | null }[] } })
      .character;
    assert.equal(c.matched, false);
    assert.equal(c.attempts, 3);
    assert.deepEqual(
      c.tried.map((t) => (t.similarity === null ? null : Math.round(t.similarity * 100))),
      [20, null, 0],
    );
    assert.equal(done.result?.image_url, `/outputs/images/${p.id}-g1.png`, "the most similar attempt");
    assert.equal(x.dispatcher.started.filter((s) => s.task.job_id === `${p.id}-g4`).length, 0, "attempts are bounded");
  });

  it("a too-dark output (the face-quality gate) is a retry, not a match, whatever its similarity; tried names the reason", async () => {
    const x = await h();
    await x.heartbeat(NODE);
    const p = await submit(x, 2);
    await x.settle();
    await gen(x, `${p.id}-g1`);
    // The same face as the references (similarity 1) but below the gate's brightness: not trusted.
    await complete(x, `${p.id}-e1`, { embedding: unit(0), embedding_dim: 8, model: FACE, quality: { brightness: 12, sharpness: 40 } });
    assert.equal(x.dispatcher.started.filter((s) => s.task.job_id === `${p.id}-g2`).length, 1, "regenerated");
    assert.match((await x.coord.get(p.id)).message ?? "", /attempt 1 similarity n\/a \(face not verifiable: too_dark\)/);
    await gen(x, `${p.id}-g2`);
    await complete(x, `${p.id}-e2`, { embedding: [0.95, 0.3, 0, 0, 0, 0, 0, 0], embedding_dim: 8, model: FACE, quality: { brightness: 120, sharpness: 40 } });
    const done = await x.coord.get(p.id);
    assert.equal(done.status, "completed");
    assert.equal(done.result?.image_url, `/outputs/images/${p.id}-g2.png`);
    const c = (done.result?.metadata as { character: { matched: boolean; tried: { similarity: number | null; quality_issues?: string[] }[] } }).character;
    assert.equal(c.matched, true);
    assert.deepEqual(c.tried[0], { attempt: 1, job_id: `${p.id}-g1`, similarity: null, quality_issues: ["too_dark"] });
    assert.equal(c.tried[1]?.quality_issues, undefined);
  });

  it("when every output is too dark: completed with matched false, never a match", async () => {
    const x = await h();
    await x.heartbeat(NODE);
    const p = await submit(x, 1);
    await x.settle();
    await gen(x, `${p.id}-g1`);
    await complete(x, `${p.id}-e1`, { embedding: unit(0), embedding_dim: 8, model: FACE, quality: { brightness: 5 } });
    const done = await x.coord.get(p.id);
    assert.equal(done.status, "completed");
    const c = (done.result?.metadata as { character: { matched: boolean; similarity: number | null } }).character;
    assert.equal(c.matched, false);
    assert.equal(c.similarity, null);
  });

  it("a failed generation ends the job with its error", async () => {
    const x = await h();
    await x.heartbeat(NODE);
    const p = await submit(x);
    await x.settle();
    await x.coord.reportFailed({
      node_id: "gpu",
      job_id: `${p.id}-g1`,
      token: 1,
      error: { code: "GPU_ERROR", message: "CUDA out of memory in KSampler" },
      retryable: false,
    });
    await new Promise((r) => setTimeout(r, 20));
    await x.settle();
    const done = await x.coord.get(p.id);
    assert.equal(done.status, "failed");
    assert.deepEqual(done.error, { code: "GPU_ERROR", message: "CUDA out of memory in KSampler" });
  });

  it("a batch with a character: every item is its own verified generation, results in prompt order", async () => {
    const x = await h();
    await x.heartbeat(NODE);
    const items = ["one", "two"].map((prompt) => ({ generate: { prompt, model: "sdxl-base-1.0" }, character, attempts: 2 }));
    const b = await x.coord.submit({ type: "image.batch", params: {}, children: { type: "image.character", items } });
    await x.settle();
    for (const i of [0, 1]) {
      const c = `${b.id}-${i}`;
      assert.equal(x.dispatcher.last(`${c}-g1`).task.params.prompt, i === 0 ? "one" : "two");
      await gen(x, `${c}-g1`);
      await embed(x, `${c}-e1`, i === 0 ? unit(0) : unit(1));
    }
    await gen(x, `${b.id}-1-g2`);
    await embed(x, `${b.id}-1-e2`, unit(0));
    const done = await x.coord.get(b.id);
    assert.equal(done.status, "completed");
    const r = done.result as {
      items: { prompt?: string; status: string; image_url: string; metadata: { character: { attempts: number; matched: boolean } } }[];
    };
    assert.deepEqual(
      r.items.map((it) => [it.status, it.metadata.character.attempts, it.metadata.character.matched]),
      [
        ["completed", 1, true],
        ["completed", 2, true],
      ],
    );
    assert.equal(r.items[1]!.image_url, `/outputs/images/${b.id}-1-g2.png`);
    assert.deepEqual(
      r.items.map((it) => it.prompt),
      ["one", "two"],
    );
  });

  it("no node with a face-reference variant: 503 naming it, nothing stored", async () => {
    const x = await h();
    await x.heartbeat({ ...NODE, models: { "image.generate": ["sdxl-base-1.0"], "face.embed": [FACE] } });
    await assert.rejects(submit(x), (e: unknown) => {
      assert.ok(e instanceof FarmError);
      assert.equal(e.code, "CAPABILITY_UNAVAILABLE");
      assert.match(e.message, /no live node offers 'sdxl-base-1.0:face_ref'/);
      assert.equal(e.details?.field, "model");
      return true;
    });
    assert.equal((await x.coord.list()).total, 0);
  });

  it("cancel reaches the running step; restart continues from the steps in the store", async () => {
    const x = await h();
    await x.heartbeat(NODE);
    const p = await submit(x);
    await x.settle();
    const c = await x.coord.cancel(p.id);
    assert.equal(c.cancel_requested, true);
    assert.ok(x.dispatcher.cancelled.some((d) => d.job === `${p.id}-g1`));
    await x.coord.reportFailed({ node_id: "gpu", job_id: `${p.id}-g1`, token: 1, error: { code: "JOB_CANCELLED", message: "interrupted" }, retryable: false });
    await new Promise((r) => setTimeout(r, 20));
    await x.settle();
    assert.equal((await x.coord.get(p.id)).status, "cancelled");

    const y = await harness();
    await y.heartbeat(NODE);
    const q = await submit(y);
    await y.settle();
    await gen(y, `${q.id}-g1`);
    assert.ok(y.dispatcher.last(`${q.id}-e1`));
    await y.shutdown();
    const z = await h({ dir: y.dir });
    await z.heartbeat(NODE, [{ job_id: `${q.id}-e1`, token: 1 }]);
    await embed(z, `${q.id}-e1`, unit(0));
    const done = await z.coord.get(q.id);
    assert.equal(done.status, "completed");
    assert.equal((done.result?.metadata as { character: { matched: boolean } }).character.matched, true);
  });
});
