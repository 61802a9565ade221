/**
 * 3. Video: /video/generate (LTX on GPU nodes), /video/animate (Ken Burns on any node,
 * or an image-to-video model a GPU node offers), /video/assemble (ffmpeg on any node).
 */
import type { FastifyInstance } from "fastify";
import type { ApiDeps } from "../deps.ts";
import { registerJobRoute } from "../job-route.ts";
import { mediaKey } from "../media.ts";
import { mediaRef } from "../schemas/common.ts";
import { FarmError } from "../../core/errors.ts";
import { jobTypeBody } from "../job-type-body.ts";
import { KENBURNS_MODEL, VIDEO_ANIMATE } from "../../core/job-types/video-animate.ts";
import { VIDEO_DEFAULT_MODEL, VIDEO_GENERATE } from "../../plugins/comfyui/job-types.ts";
import { AssembleAudio, AssembleClip, VIDEO_ASSEMBLE } from "../../plugins/video/job-types.ts";

const videoResponse = {
  type: "object",
  additionalProperties: true,
  properties: {
    job_id: { type: "string" },
    status: { type: "string" },
    video_url: { type: "string" },
    thumbnail_url: { type: "string" },
    metadata: { type: "object", additionalProperties: true },
  },
} as const;

type Body = Record<string, unknown>;

/** A params object schema with its `path` field taken as a media reference (resolved to an artifact key in toParams). */
function withMediaPath(schema: unknown, description: string): Body {
  const plain = JSON.parse(JSON.stringify(schema)) as Body & { properties: Body };
  return { ...plain, properties: { ...plain.properties, path: mediaRef(description) } };
}

// video.assemble's one definition (plugins/video/job-types.ts); clip and music paths are media references here.
const assembleBody = jobTypeBody(VIDEO_ASSEMBLE, {
  fields: {
    clips: {
      ...(JSON.parse(JSON.stringify(VIDEO_ASSEMBLE.params.properties.clips)) as Body),
      items: withMediaPath(AssembleClip, "Video clip or still image: upload/artifact reference, base64/data URL, or allowed path/URL"),
    },
    audio: withMediaPath(AssembleAudio, "Music track: upload/artifact reference, base64/data URL, or allowed path/URL"),
  },
});

/** beat_sync is on and no markers were sent: the beats must be found in the audio first. */
function needsBeats(b: Body): boolean {
  const sync = b.beat_sync as Body | undefined;
  const markers = sync?.beat_markers as unknown[] | undefined;
  return sync?.enabled === true && (!markers || markers.length === 0);
}

export async function videoRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  registerJobRoute<Body>(app, deps, {
    url: "/api/v1/video/generate",
    jobType: "video.generate",
    tags: ["video"],
    summary: "Generate a video from a text prompt (LTX-Video on a GPU node)",
    rateGroup: "video",
    waitS: 600,
    // video.generate's one definition (plugins/comfyui/job-types.ts): the model a ComfyUI node offers, the start image as media.
    body: jobTypeBody(VIDEO_GENERATE, {
      fields: {
        model: { type: "string", maxLength: 200, default: VIDEO_DEFAULT_MODEL },
        image: mediaRef("Optional start image (image-to-video): upload/artifact reference, base64/data URL, or allowed path/URL"),
      },
    }),
    response: videoResponse,
    toParams: async (b, req) => (b.image === undefined ? b : { ...b, image: await mediaKey(deps, b.image, "image", "image", req) }),
  });

  registerJobRoute<Body>(app, deps, {
    url: "/api/v1/video/animate",
    jobType: "video.animate",
    tags: ["video"],
    summary: "Animate a still image: camera motion (model kenburns, any node) or an image-to-video model a GPU node offers",
    rateGroup: "video",
    waitS: 300,
    // video.animate's one definition (core/job-types/video-animate.ts, served by kenburns and ComfyUI's image-to-video models).
    body: jobTypeBody(VIDEO_ANIMATE, {
      fields: {
        image: mediaRef("The still: upload/artifact reference, base64/data URL, or allowed path/URL"),
        // An explicit default: with an image-to-video model also offered for video.animate, the
        // coordinator's fallback (the first model a node lists) could otherwise pick it.
        model: {
          type: "string",
          minLength: 1,
          maxLength: 200,
          default: KENBURNS_MODEL,
          description:
            "kenburns (camera motion, any node) or an image-to-video model a GPU node offers, e.g. ltx-video-0.9.7-distilled (then prompt is required; motion, motion_strength, quality and codec only steer kenburns)",
        },
      },
    }),
    response: videoResponse,
    toParams: async (b, req) => ({ ...b, image: await mediaKey(deps, b.image, "image", "image", req) }),
  });

  registerJobRoute<Body>(app, deps, {
    url: "/api/v1/video/assemble",
    jobType: "video.assemble",
    tags: ["video"],
    summary: "Assemble clips and stills into one video: transitions, music, beat-synced cuts, platform presets",
    rateGroup: "video",
    waitS: 900,
    bodyLimitMb: 200,
    body: assembleBody,
    response: videoResponse,
    toParams: async (b, req) => {
      const clips = await Promise.all((b.clips as Body[]).map(async (c, i) => ({ ...c, path: await mediaKey(deps, c.path, `clips[${i}].path`, "any", req) })));
      const audio = b.audio as Body | undefined;
      const audioKey = audio ? await mediaKey(deps, audio.path, "audio.path", "audio", req) : undefined;
      const params: Body = { ...b, clips, ...(audio ? { audio: { ...audio, path: audioKey } } : {}) };
      if (needsBeats(b) && !audioKey) {
        throw new FarmError("VALIDATION_ERROR", "beat_sync needs beat_markers or an audio track to analyse", {
          field: "beat_sync.beat_markers",
          constraint: "required",
        });
      }
      return params;
    },
    // Beat sync without markers: the audio-analysis job runs first and its beats feed the
    // assembly, as one chained job (coordinator/job-chains.ts), so ?async=true answers 202
    // at once. If no node offers the analysis, submit answers 503 naming it.
    steps: (params, b) =>
      needsBeats(b)
        ? [
            { type: "audio.detect_beats", params: { audio_path: (params.audio as Body).path } },
            { type: "video.assemble", params, inputs: { beats: "beat_sync.beat_markers", downbeats: "beat_sync.downbeats" } },
          ]
        : undefined,
  });
}
