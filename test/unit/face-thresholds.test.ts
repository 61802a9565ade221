/** Which model a new character gets: the best measured model that some live node offers. */
import { test } from "vitest";
import assert from "node:assert/strict";
import { CHARACTER_MODEL_PREFERENCE, characterModelFor, DEFAULT_CHARACTER_MODEL, thresholdFor } from "../../core/characters/index.ts";

test("the fusion when a node offers it, else human-faceres; every preferred model has a calibrated threshold", () => {
  assert.equal(characterModelFor(new Set(["face-api", "human-faceres", "faceplugin-fr", "fusion-fr-faceres"])), "fusion-fr-faceres");
  assert.equal(characterModelFor(new Set(["face-api", "human-faceres"])), "human-faceres");
  // Nothing preferred on offer: the default, so the job answers the usual "no capable node".
  assert.equal(characterModelFor(new Set(["face-api"])), DEFAULT_CHARACTER_MODEL);
  assert.equal(characterModelFor(new Set()), DEFAULT_CHARACTER_MODEL);
  for (const m of CHARACTER_MODEL_PREFERENCE) assert.equal(thresholdFor(m).source, "calibrated");
});
