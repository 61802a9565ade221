/**
 * video.assemble, defined once (core/job-types/define.ts): the params schema the manifest
 * advertises (the coordinator checks submissions against it), the /video/assemble body derives
 * from (api/routes/video.ts: media fields become references the route resolves to artifact
 * keys) and the plugin parses with (src/params-assemble.ts). Pure data.
 *
 * Bounds and defaults are those the API applied before this schema existed: the route's
 * schema ran first (its defaults filled), then the plugin's checks, so each bound here is the
 * tighter of the two (clip duration 3600 s from the plugin, beat_sync.n 64 from the route,
 * ducking threshold from the plugin) and the defaults are the route's (audio.volume 0.8,
 * beat_sync.enabled false). Defaults the route never filled (trims, motion, ducking strength,
 * beat mode...) stay in the plugin, so the params a job records are the same as before.
 * Rules across fields (trim_end after trim_start, transition names ffmpeg knows, beat markers
 * when beat sync is on) stay in the plugin too: a schema cannot say them.
 */
import { Type } from "typebox";
import { defineJobType, StringEnum } from "../../core/job-types/define.ts";
import { ANIMATE_MOTIONS, VIDEO_CODECS, QUALITY_TIERS } from "../../core/job-types/video-animate.ts";

export const MAX_CLIPS = 500;
/** Longest clip (seconds on the timeline). */
export const MAX_CLIP_S = 3600;
/** Longest beat-marker / downbeat list. */
export const MAX_MARKERS = 100_000;
/** Ducking threshold floor: -60 dBFS (sidechaincompress' own minimum). */
export const MIN_DUCK_THRESHOLD = 0.000976563;

const seconds = (max: number, description?: string) => Type.Optional(Type.Number({ minimum: 0, maximum: max, ...(description ? { description } : {}) }));
const transition = (description?: string) => Type.Optional(Type.String({ maxLength: 40, ...(description ? { description } : {}) }));

export const AssembleClip = Type.Object(
  {
    path: Type.String({ minLength: 1, description: "Artifact key of a video clip or still image" }),
    duration: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        maximum: MAX_CLIP_S,
        description: "Seconds on the timeline (stills need one; videos default to their length after trims)",
      }),
    ),
    trim_start: seconds(86400, "Seconds skipped at the clip's start"),
    trim_end: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 86400, description: "Source time where the clip ends" })),
    transition_in: transition("cut, crossfade, dip_to_black, dip_to_white, or any ffmpeg xfade name"),
    transition_out: transition(),
    transition_duration: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 10 })),
    motion: Type.Optional(StringEnum(["none", ...ANIMATE_MOTIONS] as const, { description: "Camera motion for a still (Ken Burns)" })),
    motion_strength: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  },
  { additionalProperties: false },
);

export const AssembleAudio = Type.Object(
  {
    path: Type.String({ minLength: 1, description: "Artifact key of the music track" }),
    volume: Type.Optional(Type.Number({ minimum: 0, maximum: 4, default: 0.8 })),
    fade_in: seconds(600),
    fade_out: seconds(600),
    start: seconds(86400, "Seconds skipped at the start of the music"),
    clip_volume: Type.Optional(Type.Number({ minimum: 0, maximum: 4, default: 1 })),
    keep_clip_audio: Type.Optional(Type.Boolean({ default: true })),
    ducking: Type.Optional(
      Type.Union(
        [
          Type.Boolean(),
          Type.Object(
            {
              enabled: Type.Optional(Type.Boolean()),
              threshold: Type.Optional(Type.Number({ minimum: MIN_DUCK_THRESHOLD, maximum: 1 })),
              ratio: Type.Optional(Type.Number({ minimum: 1, maximum: 20 })),
            },
            { additionalProperties: false },
          ),
        ],
        { description: "Lower the music under clip audio" },
      ),
    ),
  },
  // Open, as the route's audio object always was (unknown fields pass and are ignored).
  { additionalProperties: true },
);

export const AssembleOutputSettings = Type.Object(
  {
    resolution: Type.Optional(Type.String({ pattern: "^[0-9]{2,5}x[0-9]{2,5}$" })),
    fps: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 120 })),
    codec: Type.Optional(StringEnum(VIDEO_CODECS)),
    bitrate: Type.Optional(Type.String({ pattern: "^[0-9]+(\\.[0-9]+)?[kKmM]?$" })),
    crf: Type.Optional(Type.Integer({ minimum: 0, maximum: 63 })),
    quality: Type.Optional(StringEnum(QUALITY_TIERS)),
    platform: Type.Optional(Type.String({ maxLength: 100, description: 'A platform preset, e.g. "TikTok (9:16)" (sets size and fps unless given)' })),
    fit: Type.Optional(StringEnum(["letterbox", "blur", "crop"] as const, { default: "letterbox" })),
    width: Type.Optional(Type.Integer({ minimum: 16, maximum: 7680 })),
    height: Type.Optional(Type.Integer({ minimum: 16, maximum: 4320 })),
    encoder: Type.Optional(StringEnum(["auto", "software"] as const, { default: "auto" })),
  },
  { additionalProperties: false },
);

const markers = Type.Optional(Type.Array(Type.Number({ minimum: 0 }), { maxItems: MAX_MARKERS }));

export const AssembleBeatSync = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean({ default: false })),
    beat_markers: markers,
    downbeats: markers,
    mode: Type.Optional(StringEnum(["every_beat", "every_n", "downbeats"] as const)),
    n: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
    min_shot_s: seconds(600),
  },
  { additionalProperties: false },
);

export const VideoAssembleParams = Type.Object(
  {
    clips: Type.Array(AssembleClip, { minItems: 1, maxItems: MAX_CLIPS }),
    audio: Type.Optional(AssembleAudio),
    output_settings: Type.Optional(AssembleOutputSettings),
    beat_sync: Type.Optional(AssembleBeatSync),
  },
  { additionalProperties: false },
);

export const VIDEO_ASSEMBLE = defineJobType({
  type: "video.assemble",
  description: "Assemble clips and stills into one video with transitions, music and beat sync",
  params: VideoAssembleParams,
  models: [],
});
