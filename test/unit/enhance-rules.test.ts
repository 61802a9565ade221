/** The rules engine: levels, every style and platform, dedupe, determinism, negatives. */
import { describe, it } from "vitest";
import assert from "node:assert/strict";
import { enhancePrompt, listPlatforms, listStyles, STAGE_NAMES, type EnhanceResult } from "../../plugins/enhance/index.ts";
import { knowledgeBase } from "../../plugins/enhance/knowledge-base.ts";

const FIXED = () => new Date("2026-01-02T03:04:05.000Z");
const STOP = new Set([
  "a",
  "an",
  "the",
  "of",
  "and",
  "or",
  "with",
  "in",
  "on",
  "at",
  "by",
  "for",
  "to",
  "from",
  "as",
  "its",
  "like",
  "through",
  "behind",
  "across",
  "against",
  "toward",
]);

/** Independent check: no chunk twice, and no meaningful word pair in two different chunks. */
function assertNoRepeatedPhrases(prompt: string): void {
  const chunks = prompt.split(", ").map((c) => c.toLowerCase().trim());
  assert.equal(new Set(chunks).size, chunks.length, `a phrase repeats in: ${prompt}`);
  const owner = new Map<string, number>();
  chunks.forEach((chunk, i) => {
    const ws = chunk
      .split(/[\s]+/)
      .map((w) => w.replace(/[^a-z0-9:./'-]/g, "").replace(/s$/, ""))
      .filter((w) => w && !STOP.has(w));
    for (let j = 1; j < ws.length; j++) {
      const pair = `${ws[j - 1]} ${ws[j]}`;
      const prev = owner.get(pair);
      assert.ok(prev === undefined || prev === i, `"${pair}" appears in "${chunks[prev ?? 0]}" and "${chunk}"`);
      owner.set(pair, i);
    }
  });
}

const PROMPTS = [
  "woman singing in a studio",
  "a cat sitting on a rooftop",
  "Two friends running along the beach at sunset",
  "a luxury watch on a marble table",
  "cinematic neon city street at night with rain",
  "an old fisherman mending nets, warm light",
];

describe("enhance rules engine", () => {
  it("runs stages 1-3 for quick, 1-5 for standard and all seven for full", () => {
    const q = enhancePrompt({ prompt: "woman singing in a studio", enhancement_level: "quick" });
    assert.deepEqual(q.stages_completed, ["concept", "scene", "visual"]);
    assert.deepEqual(Object.keys(q.engines), ["concept", "scene", "visual"]);
    assert.ok(!q.enhanced_prompt.includes("35mm anamorphic lens"), "quick has no cinematic stage");
    assert.ok(!q.enhanced_prompt.includes("1920x1080"), "quick has no technical stage");

    const s = enhancePrompt({ prompt: "woman singing in a studio", enhancement_level: "standard" });
    assert.deepEqual(s.stages_completed, ["concept", "scene", "visual", "cinematic", "narrative"]);
    assert.ok(s.enhanced_prompt.includes("shot on 35mm anamorphic lens"));
    assert.ok(!s.enhanced_prompt.includes("1920x1080"));

    const f = enhancePrompt({ prompt: "woman singing in a studio" });
    assert.deepEqual(f.stages_completed, [...STAGE_NAMES]);
    assert.ok(f.enhanced_prompt.includes("1920x1080") && f.enhanced_prompt.includes("16:9"));
    assert.ok(f.enhanced_prompt.length > s.enhanced_prompt.length && s.enhanced_prompt.length > q.enhanced_prompt.length);
  });

  it("answers the spec example with the spec's result shape and the defaults (Cinematic, YouTube 16:9, full)", () => {
    const r = enhancePrompt({ prompt: "woman singing in a studio" }, { now: FIXED });
    assert.deepEqual(Object.keys(r).sort(), [
      "engines",
      "enhanced_prompt",
      "negative_prompt",
      "original_prompt",
      "stages_completed",
      "style_dna",
      "technical",
      "timestamp",
    ]);
    assert.equal(r.original_prompt, "woman singing in a studio");
    assert.ok(r.enhanced_prompt.startsWith("Woman singing in a studio, "));
    assert.equal(r.timestamp, "2026-01-02T03:04:05.000Z");
    assert.deepEqual(r.technical, { width: 1920, height: 1080, aspect_ratio: "16:9", fps: 30 });
    assert.deepEqual(r.style_dna.primary_colors.slice(0, 2), ["warm amber", "deep burgundy"]);
    assert.equal(r.style_dna.camera, "35mm anamorphic lens");
    assert.match(r.style_dna.lighting, /three-point cinematic/);
    assert.match(r.style_dna.mood, /passionate/, "a singing prompt reads as the music theme");
    // The music-studio setting, not a generic one.
    assert.ok(r.enhanced_prompt.includes("acoustic foam panels"));
    assert.ok(Object.values(r.engines).every((e) => e === "rules"));
    // Coherent order: subject, setting, lighting, camera, mood, quality.
    const at = (s: string) => r.enhanced_prompt.indexOf(s);
    assert.ok(at("acoustic foam panels") < at("three-point cinematic lighting"));
    assert.ok(at("three-point cinematic lighting") < at("shot on 35mm anamorphic lens"));
    assert.ok(at("shot on 35mm anamorphic lens") < at("soulful"));
    assert.ok(at("soulful") < at("1920x1080"));
  });

  it("gives valid output for every style on every platform", () => {
    const kb = knowledgeBase();
    for (const style of kb.styles) {
      for (const platform of kb.platforms) {
        const r = enhancePrompt({ prompt: "woman singing in a studio", style: style.name, platform: platform.name });
        const where = `${style.name} / ${platform.name}`;
        assert.ok(r.enhanced_prompt.startsWith("Woman singing in a studio, "), where);
        assert.ok(r.enhanced_prompt.includes(`${platform.width}x${platform.height}`), `${where}: resolution`);
        assert.ok(r.enhanced_prompt.includes(platform.aspect_ratio), `${where}: aspect`);
        assert.deepEqual(r.technical, { width: platform.width, height: platform.height, aspect_ratio: platform.aspect_ratio, fps: platform.fps });
        const lower = r.enhanced_prompt.toLowerCase();
        for (const k of style.keywords) assert.ok(lower.includes(k.toLowerCase()), `${where}: keyword "${k}" missing from ${r.enhanced_prompt}`);
        const neg = (r.negative_prompt ?? "").split(", ");
        for (const n of [...kb.baseNegatives, ...style.negative]) assert.ok(neg.includes(n), `${where}: negative "${n}"`);
        assert.deepEqual(r.style_dna.primary_colors, style.palette);
        assert.equal(r.style_dna.camera, style.lens);
        assertNoRepeatedPhrases(r.enhanced_prompt);
      }
    }
  });

  it("never repeats a phrase, for varied prompts and every style", () => {
    for (const style of listStyles()) {
      for (const prompt of PROMPTS) {
        const r = enhancePrompt({ prompt, style: style.name, platform: "TikTok (9:16)" });
        assertNoRepeatedPhrases(r.enhanced_prompt);
        assert.ok(r.enhanced_prompt.toLowerCase().startsWith(prompt.toLowerCase().replace(/\.$/, "")), r.enhanced_prompt);
      }
    }
  });

  it("drops a later word the prompt already used ('warm tones' keeps the grade from saying warm again)", () => {
    const r = enhancePrompt({ prompt: "woman singing in a studio", style: "Cinematic" });
    assert.ok(r.enhanced_prompt.includes("warm tones"));
    assert.ok(r.enhanced_prompt.includes("contrasty color grade") && !r.enhanced_prompt.includes("warm contrasty color grade"));
  });

  it("keeps a non-Latin prompt verbatim as the subject", () => {
    const r = enhancePrompt({ prompt: "在雨中跳舞的女孩", style: "Anime", platform: "TikTok (9:16)" });
    assert.ok(r.enhanced_prompt.startsWith("在雨中跳舞的女孩, "));
    assert.ok(r.enhanced_prompt.includes("anime style") && r.enhanced_prompt.includes("1080x1920"));
    assertNoRepeatedPhrases(r.enhanced_prompt);
  });

  it("omits the negative prompt when include_negative is false", () => {
    const r = enhancePrompt({ prompt: "a lighthouse in a storm", include_negative: false });
    assert.equal("negative_prompt" in r, false);
  });

  it("keeps out of the negative prompt what the user asked for", () => {
    const r = enhancePrompt({ prompt: "a neon sign with text glowing in an alley", style: "Neon Cyberpunk" });
    const neg = (r.negative_prompt ?? "").split(", ");
    assert.ok(!neg.includes("text"), r.negative_prompt);
    assert.ok(neg.includes("logo") && neg.includes("daylight"));
  });

  it("is deterministic: the same input and options give the same result", () => {
    for (const prompt of PROMPTS) {
      const a = enhancePrompt({ prompt, style: "Fantasy", platform: "Instagram Post (1:1)" }, { now: FIXED });
      const b = enhancePrompt({ prompt, style: "Fantasy", platform: "Instagram Post (1:1)" }, { now: FIXED });
      assert.deepEqual(a, b);
    }
  });

  it("takes the music-video scene position for the story beat", () => {
    const beat = (i: number): EnhanceResult =>
      enhancePrompt({ prompt: "a dancer on an empty stage", scene_index: i, scene_count: 5, enhancement_level: "standard" });
    assert.ok(beat(0).enhanced_prompt.includes("quiet establishing moment"));
    assert.ok(beat(2).enhanced_prompt.includes("decisive peak moment"));
    assert.ok(beat(4).enhanced_prompt.includes("serene resolution"));
  });

  it("matches style and platform names case-insensitively and platforms without their aspect suffix", () => {
    const r = enhancePrompt({ prompt: "a fox in the snow", style: "neon CYBERPUNK", platform: "tiktok" });
    assert.ok(r.enhanced_prompt.includes("cyberpunk"));
    assert.deepEqual(r.technical, { width: 1080, height: 1920, aspect_ratio: "9:16", fps: 30 });
    assert.ok(r.enhanced_prompt.includes("vertical 9:16 frame"));
  });

  it("lists at least the 14 reference styles and every reference platform", () => {
    const styles = listStyles();
    const names = styles.map((s) => s.name);
    for (const n of [
      "Photorealistic",
      "Cinematic",
      "Documentary",
      "Artistic",
      "Vintage Film",
      "Noir",
      "Neon Cyberpunk",
      "Minimalist",
      "Anime",
      "3D Render",
      "Fantasy",
      "Sci-Fi",
      "Horror",
      "Christmas",
    ]) {
      assert.ok(names.includes(n), n);
    }
    for (const s of styles) assert.ok(s.description.length > 0 && s.keywords.length > 0, s.name);
    assert.equal(styles.find((s) => s.name === "Cinematic")?.description, "Hollywood film look with anamorphic lenses");
    const platforms = listPlatforms();
    assert.deepEqual(
      platforms.find((p) => p.name === "Cinematic (2.39:1)"),
      { name: "Cinematic (2.39:1)", width: 1920, height: 804, aspect_ratio: "2.39:1", fps: 24 },
    );
    assert.deepEqual(platforms.map((p) => p.name).sort(), [
      "4K YouTube (16:9)",
      "Cinematic (2.39:1)",
      "Instagram Portrait (4:5)",
      "Instagram Post (1:1)",
      "Instagram Reel (9:16)",
      "TikTok (9:16)",
      "YouTube (16:9)",
      "YouTube Shorts (9:16)",
    ]);
  });
});
