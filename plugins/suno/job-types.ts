/**
 * suno.generate, suno.lyrics and suno.credits, defined once (core/job-types/define.ts).
 * Suno's model ids ("chirp-v3-5") are the bridge's, not farm models a node loads: they are
 * a plain param here, not `models` (nothing to place on). Pure data, loaded by the API
 * (api/routes/music.ts) as well as by the plugin's parse (params.ts).
 */
import { Type } from "typebox";
import { defineJobType, StringEnum } from "../../core/job-types/define.ts";

export const DEFAULT_SUNO_MODEL = "chirp-v3-5";

export const GenerateParams = Type.Object({
  mode: Type.Optional(StringEnum(["simple", "custom"] as const, { default: "simple" })),
  prompt: Type.String({ minLength: 1, maxLength: 3000, description: "Song description (simple) or lyrics (custom)" }),
  style: Type.Optional(Type.String({ maxLength: 200 })),
  title: Type.Optional(Type.String({ maxLength: 200 })),
  instrumental: Type.Optional(Type.Boolean({ default: false })),
  wait_audio: Type.Optional(Type.Boolean({ default: true })),
  model: Type.Optional(Type.String({ maxLength: 50, pattern: "^[A-Za-z0-9._-]+$", default: DEFAULT_SUNO_MODEL, description: "Suno model id on the bridge" })),
});

export const LyricsParams = Type.Object({ prompt: Type.String({ minLength: 1, maxLength: 2000 }) });

export const SUNO_GENERATE = defineJobType({
  type: "suno.generate",
  description: "Generate songs (simple: a description; custom: lyrics + style + title), wait for the audio and save it under outputs/music/",
  params: GenerateParams,
});

export const SUNO_LYRICS = defineJobType({ type: "suno.lyrics", description: "Generate lyrics only (free on Suno)", params: LyricsParams });

export const SUNO_CREDITS = defineJobType({ type: "suno.credits", description: "The bridge account's credit balance", params: Type.Object({}) });
