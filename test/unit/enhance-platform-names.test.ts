/**
 * The enhance job type's `platform` (plugins/enhance/job-types.ts) and the enhancer's lookup
 * (plugins/enhance/knowledge-base.ts findPlatform) agree: both take the spellings of
 * core/platforms.ts platformNameForms under the nameKey rule, so a platform the schema lets
 * through at submit is always found (no failed job), and an unknown one is refused at submit.
 */
import { test } from "vitest";
import assert from "node:assert/strict";
import { Ajv } from "ajv";
import { EnhanceParams } from "../../plugins/enhance/job-types.ts";
import { findPlatform } from "../../plugins/enhance/knowledge-base.ts";
import { platformNameForms, platformSizes } from "../../core/platforms.ts";

const check = new Ajv({ strict: false }).compile(EnhanceParams);
const accepted = (platform: string) => check({ prompt: "a", platform });

test("platformNameForms: the full name and the name without its aspect suffix", () => {
  assert.deepEqual(platformNameForms("TikTok (9:16)"), ["TikTok (9:16)", "TikTok"]);
  assert.deepEqual(platformNameForms("Cinematic (2.39:1)"), ["Cinematic (2.39:1)", "Cinematic"]);
  assert.deepEqual(platformNameForms("Plain"), ["Plain"]);
});

test("every spelling the schema accepts is found, and every one it refuses is not", () => {
  const spellings = [
    "tiktok",
    "TikTok (9:16)",
    "tik tok",
    "TIK-TOK",
    "youtube",
    "YouTube (16:9)",
    "youtube_shorts",
    "Instagram Reel",
    "instagram-post (1:1)",
    "cinematic",
    "4k youtube",
    "Myspace",
    "tiktok (16:9)",
    "youtube shorts (16:9)",
    "",
    "(9:16)",
    "instagram",
  ];
  for (const s of spellings) assert.equal(accepted(s), findPlatform(s) !== undefined, `${JSON.stringify(s)}: schema and lookup disagree`);
  assert.equal(findPlatform("tiktok")?.name, "TikTok (9:16)");
  assert.equal(findPlatform("youtube")?.name, "YouTube (16:9)");
  assert.equal(findPlatform("4K-YouTube")?.name, "4K YouTube (16:9)");
  assert.equal(accepted("Myspace"), false);
  for (const p of platformSizes()) for (const form of platformNameForms(p.name)) assert.equal(findPlatform(form)?.name, p.name, form);
});
