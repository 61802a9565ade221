/**
 * One platform lookup (core/platforms.ts platformIndex) behind every platform field: the
 * enhancer's knowledge base, /generate/image and video assembly. Before, core's findPlatform
 * built its own map in which the last platform won a clash while the enhancer's first one
 * did, so a name two platforms share (two aspects of one service) could resolve to different
 * platforms in the prompt and in the output size.
 */
import assert from "node:assert/strict";
import { describe, it } from "vitest";
import { findPlatform, platformIndex, platformNameForms, platformSizes } from "../../core/platforms.ts";
import { findPlatform as enhancerPlatform } from "../../plugins/enhance/knowledge-base.ts";

describe("platformIndex", () => {
  it("on a clash the first platform listed wins, and a full name beats another platform's bare form", () => {
    const find = platformIndex([{ name: "Reel (9:16)" }, { name: "Reel (4:5)" }, { name: "Story (9:16)" }, { name: "Story" }]);
    assert.equal(find("reel")?.name, "Reel (9:16)");
    assert.equal(find("REEL (4:5)")?.name, "Reel (4:5)");
    // "Story" is a full name: it is not shadowed by the bare form of "Story (9:16)" listed before it.
    assert.equal(find("story")?.name, "Story");
    assert.equal(find("story_(9:16)")?.name, "Story (9:16)");
    assert.equal(find("tiktok"), undefined);
  });

  it("core's findPlatform and the enhancer's answer every spelling of every platform with the same platform", () => {
    for (const p of platformSizes()) {
      for (const form of platformNameForms(p.name)) {
        for (const spelling of [form, form.toLowerCase(), form.toUpperCase().replace(/ /g, "_"), form.replace(/ /g, "-")]) {
          assert.equal(findPlatform(spelling)?.name, p.name, spelling);
          assert.equal(enhancerPlatform(spelling)?.name, p.name, spelling);
        }
      }
    }
  });
});
