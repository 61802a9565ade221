/** ffprobe wrapper: what the plugin needs to know about an input before building a graph. */
import { FarmError, validation } from "../../../core/errors.ts";
import { FFPROBE, runProcess, type RunOptions } from "./ffmpeg-run.ts";

export interface MediaInfo {
  /** "image" for a single still (png/jpeg/webp…), "video" for anything with moving frames, "audio" when no video stream. */
  kind: "image" | "video" | "audio";
  /** Seconds; 0 for stills. */
  duration: number;
  width: number;
  height: number;
  /** Average frame rate of the video stream (0 when unknown / still). */
  fps: number;
  hasAudio: boolean;
  /** Video stream codec (e.g. "h264"), "" when none. */
  videoCodec: string;
  /** Container start time (seconds): timestamps of the first frame, which `movie` does not rebase. */
  startTime: number;
  /** The video stream's own duration (seconds), 0 when unknown. */
  videoDuration: number;
  /** Packets counted in the video stream, when asked for (countFrames). */
  frameCount?: number;
}

interface ProbeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  duration?: string;
  nb_read_packets?: string;
  disposition?: { attached_pic?: number };
}
interface ProbeJson {
  streams?: ProbeStream[];
  format?: { format_name?: string; duration?: string; start_time?: string };
}

const rate = (r: string | undefined): number => {
  if (!r) return 0;
  const [n, d] = r.split("/").map(Number);
  return n !== undefined && d ? n / d : Number(n) || 0;
};

/**
 * Probe a file. A file ffprobe cannot read becomes VALIDATION_ERROR on `field`
 * (the request field that named it), so corrupt uploads are rejected before any encode.
 */
export async function probeMedia(file: string, field: string, opts: RunOptions & { countFrames?: boolean } = {}): Promise<MediaInfo> {
  const args = ["-v", "error", "-show_streams", "-show_format", "-of", "json"];
  if (opts.countFrames) args.push("-count_packets");
  let json: ProbeJson;
  try {
    const { stdout } = await runProcess(FFPROBE, [...args, file], { signal: opts.signal, trackChild: opts.trackChild });
    json = JSON.parse(stdout) as ProbeJson;
  } catch (err) {
    if (err instanceof FarmError && err.code === "JOB_CANCELLED") throw err;
    const why = err instanceof Error ? err.message.replace(/^.*?failed \([^)]*\): /, "") : String(err);
    throw validation(field, "readable_media", `${field}: not a readable media file (ffprobe: ${why || "unknown error"})`);
  }
  const streams = json.streams ?? [];
  const video = streams.find((s) => s.codec_type === "video" && !s.disposition?.attached_pic);
  const audio = streams.find((s) => s.codec_type === "audio");
  const formatName = json.format?.format_name ?? "";
  const duration = Number(json.format?.duration ?? video?.duration ?? audio?.duration ?? 0) || 0;
  if (!video && !audio) throw validation(field, "readable_media", `${field}: file has no video or audio stream`);
  const isImage = !!video && (formatName === "image2" || formatName.endsWith("_pipe") || (formatName === "gif" && duration === 0));
  return {
    kind: !video ? "audio" : isImage ? "image" : "video",
    duration: isImage ? 0 : duration,
    width: video?.width ?? 0,
    height: video?.height ?? 0,
    fps: isImage ? 0 : rate(video?.avg_frame_rate) || rate(video?.r_frame_rate),
    hasAudio: !!audio,
    videoCodec: video?.codec_name ?? "",
    videoDuration: Number(video?.duration ?? 0) || 0,
    startTime: Number(json.format?.start_time ?? 0) || 0,
    frameCount: video?.nb_read_packets !== undefined ? Number(video.nb_read_packets) : undefined,
  };
}
