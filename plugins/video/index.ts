/**
 * The video plugin (CPU, Debian ffmpeg 5.1):
 *  - "video.assemble": clips + music → one edit (transitions, beat sync, platform presets).
 *  - "video.animate":  a still → a clip with eased camera motion (model "kenburns").
 * See README.md in this folder for params, result shapes and the timeline rule.
 */
import { FarmError } from "../../core/errors.ts";
import { definePlugin, type Plugin } from "../../core/plugin-contract.ts";
import { withModels } from "../../core/job-types/define.ts";
import { VIDEO_ANIMATE } from "../../core/job-types/video-animate.ts";
import { VIDEO_ASSEMBLE } from "./job-types.ts";
import { runAnimate, ANIMATE_MODEL } from "./src/animate.ts";
import { runAssemble } from "./src/assemble.ts";
import { FFMPEG, FFPROBE, runProcess } from "./src/ffmpeg-run.ts";

const plugin: Plugin = definePlugin({
  manifest: {
    name: "video",
    version: "1.0.0",
    description: "Video assembly (xfade transitions, music, beat sync) and Ken Burns animation with ffmpeg",
    runtime: "ffmpeg",
    job_types: [
      // video.assemble's one definition (job-types.ts): the coordinator checks submissions against its params.
      VIDEO_ASSEMBLE,
      // video.animate's one definition (core/job-types/video-animate.ts, shared with ComfyUI's image-to-video), with kenburns.
      withModels(VIDEO_ANIMATE, [ANIMATE_MODEL], { default_model: ANIMATE_MODEL, description: "Animate a still image with eased camera motion (CPU)" }),
    ],
    models: [{ id: ANIMATE_MODEL, vram_mb: 0, files: [], cpu_fallback: true, description: "Ken Burns camera motion (ffmpeg zoompan), no weights" }],
  },

  async init() {
    // Without ffmpeg/ffprobe nothing here can run: disable the plugin with the reason.
    for (const bin of [FFMPEG, FFPROBE]) {
      try {
        await runProcess(bin, ["-hide_banner", "-version"]);
      } catch (err) {
        throw new FarmError("CAPABILITY_UNAVAILABLE", `video plugin needs ${bin} (Debian package ffmpeg): ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  },

  async run(task, ctx) {
    switch (task.type) {
      case "video.assemble":
        return runAssemble(task, ctx);
      case "video.animate":
        return runAnimate(task, ctx);
      default:
        throw new FarmError("VALIDATION_ERROR", `video plugin cannot run job type '${task.type}'`, {
          field: "type",
          constraint: "video.assemble | video.animate",
        });
    }
  },
});

export default plugin;
