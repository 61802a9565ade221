/**
 * The enhancer's memos (plugins/enhance/memo.ts, phrase.ts, text.ts): bounded, never shared
 * mutably, and invisible in the output: results are the same before and after a flood of
 * one-off phrases has emptied them.
 */
import { describe, it } from "vitest";
import assert from "node:assert/strict";
import { enhancePrompt } from "../../plugins/enhance/index.ts";
import { PromptDraft } from "../../plugins/enhance/draft.ts";
import { BoundedMemo, MEMO_LIMIT } from "../../plugins/enhance/memo.ts";
import { normalisedPhraseFacts } from "../../plugins/enhance/phrase.ts";
import { contentWords, sharedContentWords } from "../../plugins/enhance/text.ts";

const FIXED = () => new Date("2026-01-02T03:04:05.000Z");

describe("enhance memos", () => {
  it("BoundedMemo computes each key once and empties itself at its limit", () => {
    let computed = 0;
    const memo = new BoundedMemo(3, (k) => {
      computed++;
      return k.toUpperCase();
    });
    assert.equal(memo.get("a"), "A");
    assert.equal(memo.get("a"), "A");
    assert.equal(computed, 1);
    memo.get("b");
    memo.get("c");
    assert.equal(computed, 3);
    memo.get("d"); // full: emptied, then "d" stored
    memo.get("a");
    assert.equal(computed, 5, "a was forgotten when the memo emptied");
  });

  it("hands out frozen shared arrays, and contentWords returns a fresh copy callers may change", () => {
    const shared = sharedContentWords("golden hour light over the trees");
    assert.ok(Object.isFrozen(shared));
    assert.ok(Object.isFrozen(normalisedPhraseFacts("soft  rim light ").pairs));
    const mine = contentWords("golden hour light over the trees");
    assert.deepEqual(mine, ["golden", "hour", "light", "tree"]);
    mine.push("changed");
    assert.deepEqual(contentWords("golden hour light over the trees"), ["golden", "hour", "light", "tree"]);
    assert.deepEqual([...sharedContentWords("golden hour light over the trees")], ["golden", "hour", "light", "tree"]);
  });

  it("gives the same result after a flood of one-off phrases has emptied the memos", () => {
    const params = { prompt: "Two friends running along the beach at sunset", style: "Cinematic", enhancement_level: "full" as const };
    const before = enhancePrompt(params, { now: FIXED });
    const draft = new PromptDraft();
    for (let i = 0; i <= MEMO_LIMIT + 10; i++) draft.add("mood", `warm glow number ${i} of light`);
    assert.deepEqual(enhancePrompt(params, { now: FIXED }), before);
  });

  it("trims a repeated lead word and rejects case-insensitive repeats as before", () => {
    const d = new PromptDraft();
    d.setSubject("Warm tones");
    assert.equal(d.add("lighting", "warm contrasty color grade"), true);
    assert.deepEqual(d.section("lighting"), ["contrasty color grade"]);
    assert.equal(d.add("lighting", "CONTRASTY   color grade"), false);
    assert.equal(d.add("camera", "shot on 35mm lens"), true);
    assert.equal(d.add("camera", "  "), false);
    assert.equal(d.compose(), "Warm tones, contrasty color grade, shot on 35mm lens");
  });
});
