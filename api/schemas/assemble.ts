/**
 * The /video/assemble body. The video plugin validates the timeline in depth (transition
 * names, trims against real media, sizes) and names the field; this schema documents
 * the shape and rejects wrong types and absurd sizes before a job exists.
 */
import { mediaRef } from "./common.ts";

const seconds = (max: number, description?: string) => ({ type: "number", minimum: 0, maximum: max, ...(description ? { description } : {}) });

export const assembleBody = {
  type: "object",
  required: ["clips"],
  additionalProperties: false,
  properties: {
    clips: {
      type: "array",
      minItems: 1,
      maxItems: 500,
      items: {
        type: "object",
        required: ["path"],
        additionalProperties: false,
        properties: {
          path: mediaRef("Video clip or still image: upload/artifact reference, base64/data URL, or allowed path/URL"),
          duration: {
            type: "number",
            exclusiveMinimum: 0,
            maximum: 86400,
            description: "Seconds on the timeline (stills need one; videos default to their length after trims)",
          },
          trim_start: seconds(86400, "Seconds skipped at the clip's start"),
          trim_end: { type: "number", exclusiveMinimum: 0, maximum: 86400, description: "Source time where the clip ends" },
          transition_in: { type: "string", maxLength: 40, description: "cut, crossfade, dip_to_black, dip_to_white, or any ffmpeg xfade name" },
          transition_out: { type: "string", maxLength: 40 },
          transition_duration: { type: "number", exclusiveMinimum: 0, maximum: 10 },
          motion: {
            type: "string",
            enum: ["none", "zoom_in", "zoom_out", "pan_left", "pan_right", "ken_burns"],
            description: "Camera motion for a still (Ken Burns)",
          },
          motion_strength: { type: "number", minimum: 0, maximum: 1 },
        },
      },
    },
    audio: {
      type: "object",
      required: ["path"],
      additionalProperties: true,
      properties: {
        path: mediaRef("Music track: upload/artifact reference, base64/data URL, or allowed path/URL"),
        volume: { type: "number", minimum: 0, maximum: 4, default: 0.8 },
        fade_in: seconds(600),
        fade_out: seconds(600),
        start: seconds(86400, "Seconds skipped at the start of the music"),
        clip_volume: { type: "number", minimum: 0, maximum: 4, default: 1 },
        keep_clip_audio: { type: "boolean", default: true },
        ducking: {
          anyOf: [
            { type: "boolean" },
            {
              type: "object",
              additionalProperties: false,
              properties: {
                enabled: { type: "boolean" },
                threshold: { type: "number", minimum: 0, maximum: 1 },
                ratio: { type: "number", minimum: 1, maximum: 20 },
              },
            },
          ],
          description: "Lower the music under clip audio",
        },
      },
    },
    output_settings: {
      type: "object",
      additionalProperties: false,
      properties: {
        resolution: { type: "string", pattern: "^[0-9]{2,5}x[0-9]{2,5}$" },
        fps: { type: "number", exclusiveMinimum: 0, maximum: 120 },
        codec: { type: "string", enum: ["h264", "h265", "vp9", "prores"] },
        bitrate: { type: "string", pattern: "^[0-9]+(\\.[0-9]+)?[kKmM]?$" },
        crf: { type: "integer", minimum: 0, maximum: 63 },
        quality: { type: "string", enum: ["draft", "standard", "high", "maximum"] },
        platform: { type: "string", maxLength: 100, description: 'A platform preset, e.g. "TikTok (9:16)" (sets size and fps unless given)' },
        fit: { type: "string", enum: ["letterbox", "blur", "crop"], default: "letterbox" },
        width: { type: "integer", minimum: 16, maximum: 7680 },
        height: { type: "integer", minimum: 16, maximum: 4320 },
        encoder: { type: "string", enum: ["auto", "software"], default: "auto" },
      },
    },
    beat_sync: {
      type: "object",
      additionalProperties: false,
      properties: {
        enabled: { type: "boolean", default: false },
        beat_markers: { type: "array", maxItems: 100000, items: { type: "number", minimum: 0 } },
        downbeats: { type: "array", maxItems: 100000, items: { type: "number", minimum: 0 } },
        mode: { type: "string", enum: ["every_beat", "every_n", "downbeats"] },
        n: { type: "integer", minimum: 1, maximum: 64 },
        min_shot_s: seconds(600),
      },
    },
  },
} as const;
