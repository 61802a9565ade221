/**
 * audio.analyze and audio.detect_beats, defined once (core/job-types/define.ts): the params
 * schema the manifest advertises (the coordinator checks submissions against it), the API
 * routes' bodies (api/routes/audio.ts) and the plugin's parse (params.ts). No models: the
 * analysis is TypeScript DSP on the CPU. Pure data, loaded by the API.
 */
import { Type } from "typebox";
import { defineJobType, StringEnum } from "../../core/job-types/define.ts";

export const ANALYSIS_TYPES = ["full", "beats", "tempo", "key", "structure"] as const;

/** The artifact key of the input (the front door turns uploads, data URLs and paths into keys). */
const audioKey = Type.String({ minLength: 1, maxLength: 512, description: "Artifact key of the audio or video file" });

export const AnalyzeParams = Type.Object({
  audio_path: audioKey,
  analysis_type: Type.Optional(StringEnum(ANALYSIS_TYPES, { default: "full" })),
});

export const DetectBeatsParams = Type.Object({ audio_path: audioKey });

export const AUDIO_ANALYZE = defineJobType({
  type: "audio.analyze",
  description: "Beats, BPM, downbeats, key, sections and energy of an audio or video file",
  params: AnalyzeParams,
});

export const AUDIO_DETECT_BEATS = defineJobType({
  type: "audio.detect_beats",
  description: "Quick beat detection: bpm, beats, downbeats",
  params: DetectBeatsParams,
});
