/** Bad enhance.prompt params are VALIDATION_ERRORs naming the field (and the valid values). */
import { describe, it } from "vitest";
import assert from "node:assert/strict";
import { FarmError } from "../../core/errors.ts";
import { enhancePrompt, enhancePromptAsync, listStyles } from "../../plugins/enhance/index.ts";

function rejects(params: Record<string, unknown>, field: string, message: RegExp): FarmError {
  let caught: unknown;
  try {
    enhancePrompt(params);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof FarmError, `expected a FarmError for ${JSON.stringify(params).slice(0, 80)}`);
  assert.equal(caught.code, "VALIDATION_ERROR");
  assert.equal(caught.details?.field, field);
  assert.match(caught.message, message);
  return caught;
}

describe("enhance params", () => {
  it("requires a prompt of 1..2000 characters", () => {
    rejects({}, "prompt", /prompt is required/);
    rejects({ prompt: 42 }, "prompt", /must be a string/);
    rejects({ prompt: "   " }, "prompt", /must not be empty/);
    rejects({ prompt: "?!..." }, "prompt", /at least one word/);
    rejects({ prompt: "x".repeat(2001) }, "prompt", /at most 2000 characters \(got 2001\)/);
    const ok = enhancePrompt({ prompt: "y".repeat(2000), enhancement_level: "quick" });
    assert.ok(ok.enhanced_prompt.startsWith("Y" + "y".repeat(1999)));
  });

  it("names the valid styles when the style is unknown", () => {
    const err = rejects({ prompt: "a boat", style: "Watercolour" }, "style", /style 'Watercolour' is not a preset; valid styles: Photorealistic, Cinematic/);
    assert.deepEqual(
      err.details?.["allowed"],
      listStyles().map((s) => s.name),
    );
    assert.equal(err.details?.constraint, "enum");
  });

  it("names the valid platforms when the platform is unknown", () => {
    const err = rejects({ prompt: "a boat", platform: "Vimeo" }, "platform", /platform 'Vimeo' is not supported; valid platforms: YouTube \(16:9\)/);
    assert.ok((err.details?.["allowed"] as string[]).includes("Instagram Portrait (4:5)"));
  });

  it("checks level, include_negative, scene position and engine", () => {
    rejects({ prompt: "a boat", enhancement_level: "ultra" }, "enhancement_level", /quick, standard, full/);
    rejects({ prompt: "a boat", include_negative: "yes" }, "include_negative", /true or false/);
    rejects({ prompt: "a boat", scene_index: 1 }, "scene_count", /together/);
    rejects({ prompt: "a boat", scene_index: 5, scene_count: 5 }, "scene_index", /less than scene_count \(5\)/);
    rejects({ prompt: "a boat", scene_index: -1, scene_count: 5 }, "scene_index", /integer >= 0/);
    rejects({ prompt: "a boat", engine: "gpt" }, "engine", /rules, llm/);
  });

  it("refuses engine 'llm' clearly when no LLM endpoint is configured", async () => {
    assert.throws(
      () => enhancePrompt({ prompt: "a boat", engine: "llm" }),
      (e: unknown) => e instanceof FarmError && e.code === "CAPABILITY_UNAVAILABLE",
    );
    await assert.rejects(
      enhancePromptAsync({ prompt: "a boat", engine: "llm" }),
      (e: unknown) => e instanceof FarmError && e.code === "CAPABILITY_UNAVAILABLE" && /plugins\.enhance\.llm/.test(e.message),
    );
  });
});
