/** The enhancer and video assembly read the same platform presets: a prompt written for a platform and the video cut for it agree on size and rate. */
import { test } from "vitest";
import assert from "node:assert/strict";
import { knowledgeBase } from "../../plugins/enhance/knowledge-base.ts";
import { PLATFORMS, findPlatform } from "../../plugins/video/src/data.ts";

test("every platform has the same name, size and frame rate in the enhancer and in video assembly", () => {
  const kb = knowledgeBase().platforms.map(({ name, width, height, fps }) => ({ name, width, height, fps }));
  assert.ok(kb.length >= 8, `${kb.length} platforms`);
  assert.deepEqual(
    PLATFORMS.map((p) => ({ ...p })),
    kb,
  );
  assert.deepEqual(findPlatform("cinematic (2.39:1)"), { name: "Cinematic (2.39:1)", width: 1920, height: 804, fps: 24 });
});

test("every platform lookup takes the spellings the enhancer takes: tiktok, tik tok, instagram_reel, the full name", async () => {
  const core = await import("../../core/platforms.ts");
  for (const [typed, name] of [
    ["tiktok", "TikTok (9:16)"],
    ["tik tok", "TikTok (9:16)"],
    ["TikTok (9:16)", "TikTok (9:16)"],
    ["cinematic", "Cinematic (2.39:1)"],
  ] as const) {
    assert.equal(core.findPlatform(typed)?.name, name, `core: ${typed}`);
    assert.equal(findPlatform(typed)?.name, name, `video: ${typed}`);
  }
  assert.equal(core.findPlatform("Myspace"), undefined);
  assert.equal(findPlatform("Myspace"), undefined);
});
