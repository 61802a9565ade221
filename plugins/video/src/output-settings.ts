/**
 * output_settings: resolution/fps/codec/quality/platform → an encode plan, and the ffmpeg
 * encoder arguments for it (software or NVENC).
 */
import { validation } from "../../../core/errors.ts";
import type { GpuInfo } from "../../../core/telemetry.ts";
import { findPlatform, PLATFORMS, QUALITY_TIERS, TIERS, type QualityTier } from "./data.ts";
import { listEncoders } from "./ffmpeg-run.ts";
import { bool, int, num, oneOf, optObj, str, type Obj } from "./validate.ts";

export type Codec = "h264" | "h265" | "vp9" | "prores";
export const CODECS: readonly Codec[] = ["h264", "h265", "vp9", "prores"];
export type Fit = "letterbox" | "blur" | "crop";
export const FITS: readonly Fit[] = ["letterbox", "blur", "crop"];

/** Largest frame we accept (8K UHD) and the fps range; beyond these is a typo, not a request. */
export const MAX_WIDTH = 7680;
export const MAX_HEIGHT = 4320;
export const MIN_SIDE = 16;
export const MAX_FPS = 120;

export interface OutputPlan {
  width: number;
  height: number;
  fps: number;
  codec: Codec;
  quality: QualityTier;
  /** "10M" style; when set it wins over crf. */
  bitrate?: string;
  crf?: number;
  fit: Fit;
  /** File extension / container: mp4 (h264, h265), webm (vp9), mov (prores). */
  ext: "mp4" | "webm" | "mov";
  /** false = never use NVENC even when available. */
  allowHardware: boolean;
}

export interface OutputDefaults {
  width: number;
  height: number;
  fps: number;
}

function parseResolution(value: unknown, field: string): { width: number; height: number } | undefined {
  if (value === undefined || value === null) return undefined;
  const m = typeof value === "string" ? /^\s*(\d+)\s*[xX×]\s*(\d+)\s*$/.exec(value) : null;
  if (!m) throw validation(field, "WIDTHxHEIGHT", `${field} must look like "1920x1080"`);
  return { width: Number(m[1]), height: Number(m[2]) };
}

function checkSize(width: number, height: number, field: string): void {
  if (width < MIN_SIDE || height < MIN_SIDE || width > MAX_WIDTH || height > MAX_HEIGHT) {
    throw validation(
      field,
      `${MIN_SIDE}..${MAX_WIDTH}x${MIN_SIDE}..${MAX_HEIGHT}`,
      `${field} ${width}x${height} is out of range: width ${MIN_SIDE}..${MAX_WIDTH}, height ${MIN_SIDE}..${MAX_HEIGHT}`,
    );
  }
  if (width % 2 !== 0 || height % 2 !== 0) {
    throw validation(field, "even", `${field} ${width}x${height}: width and height must be even (yuv420p)`);
  }
}

/** Parse output_settings (absent = defaults). */
export function parseOutputSettings(raw: unknown, defaults: OutputDefaults, field = "output_settings"): OutputPlan {
  const o: Obj = optObj(raw, field) ?? {};
  const platformName = str(o.platform, `${field}.platform`, undefined);
  const platform = platformName === undefined ? undefined : findPlatform(platformName);
  if (platformName !== undefined && !platform) {
    throw validation(`${field}.platform`, "enum", `${field}.platform must be one of: ${PLATFORMS.map((p) => p.name).join(", ")} (got '${platformName}')`, {
      allowed: PLATFORMS.map((p) => p.name),
    });
  }
  const res = parseResolution(o.resolution, `${field}.resolution`);
  const width = res?.width ?? (o.width !== undefined ? int(o.width, `${field}.width`, 0, 1e9) : (platform?.width ?? defaults.width));
  const height = res?.height ?? (o.height !== undefined ? int(o.height, `${field}.height`, 0, 1e9) : (platform?.height ?? defaults.height));
  checkSize(width, height, res ? `${field}.resolution` : `${field}.width`);
  const fps = num(o.fps, `${field}.fps`, 1, MAX_FPS, platform?.fps ?? defaults.fps);
  const codec = oneOf(o.codec, `${field}.codec`, CODECS, "h264");
  const quality = oneOf(o.quality, `${field}.quality`, QUALITY_TIERS, "standard");
  let bitrate: string | undefined;
  if (o.bitrate !== undefined && o.bitrate !== null) {
    const b = typeof o.bitrate === "number" ? String(o.bitrate) : o.bitrate;
    if (typeof b !== "string" || !/^\d+(\.\d+)?[kKmM]?$/.test(b) || parseFloat(b) <= 0) {
      throw validation(`${field}.bitrate`, "bitrate", `${field}.bitrate must look like "10M", "800k" or bits per second`);
    }
    bitrate = b;
  }
  const crf = o.crf === undefined || o.crf === null ? undefined : int(o.crf, `${field}.crf`, 0, 63);
  const fit = oneOf(o.fit, `${field}.fit`, FITS, "letterbox");
  const encoder = oneOf(o.encoder, `${field}.encoder`, ["auto", "software"] as const, "auto");
  const ext = codec === "vp9" ? "webm" : codec === "prores" ? "mov" : "mp4";
  return { width, height, fps, codec, quality, bitrate, crf, fit, ext, allowHardware: encoder === "auto" && bool(o.hardware, `${field}.hardware`, true) };
}

/** True when this node has a real NVIDIA GPU (declared/simulated ones cannot encode). */
export const hasNvidia = (gpus: GpuInfo[]): boolean => gpus.some((g) => !g.simulated && /nvidia|tesla|geforce|quadro|rtx/i.test(g.name));

/** Pick the encoder: NVENC for h264/h265 when an NVIDIA GPU is present and ffmpeg lists it, else software. */
export async function chooseEncoder(plan: OutputPlan, gpus: GpuInfo[]): Promise<string> {
  const software = { h264: "libx264", h265: "libx265", vp9: "libvpx-vp9", prores: "prores_ks" }[plan.codec];
  if (!plan.allowHardware || (plan.codec !== "h264" && plan.codec !== "h265") || !hasNvidia(gpus)) return software;
  const nvenc = plan.codec === "h264" ? "h264_nvenc" : "hevc_nvenc";
  return new RegExp(`\\b${nvenc}\\b`).test(await listEncoders()) ? nvenc : software;
}

/** Encoder arguments (codec, rate control, pixel format, container flags) for one output. */
export function encoderArgs(plan: OutputPlan, encoder: string): string[] {
  const tier = TIERS[plan.quality];
  const rate = (crfFlag: string, crf: number): string[] => (plan.bitrate ? ["-b:v", plan.bitrate] : [crfFlag, String(plan.crf ?? crf)]);
  let v: string[];
  switch (encoder) {
    case "libx264":
      v = ["-c:v", "libx264", "-preset", tier.x264.preset, ...rate("-crf", tier.x264.crf), "-pix_fmt", "yuv420p"];
      break;
    case "libx265":
      v = [
        "-c:v",
        "libx265",
        "-preset",
        tier.x265.preset,
        ...rate("-crf", tier.x265.crf),
        "-pix_fmt",
        "yuv420p",
        "-tag:v",
        "hvc1",
        "-x265-params",
        "log-level=error",
      ];
      break;
    case "h264_nvenc":
    case "hevc_nvenc":
      v = [
        "-c:v",
        encoder,
        "-preset",
        tier.nvenc.preset,
        ...(plan.bitrate ? ["-b:v", plan.bitrate] : ["-rc", "vbr", "-cq", String(plan.crf ?? tier.nvenc.cq), "-b:v", "0"]),
        "-pix_fmt",
        "yuv420p",
      ];
      if (encoder === "hevc_nvenc") v.push("-tag:v", "hvc1");
      break;
    case "libvpx-vp9":
      v = [
        "-c:v",
        "libvpx-vp9",
        "-deadline",
        tier.vp9.deadline,
        "-cpu-used",
        String(tier.vp9.cpu_used),
        "-row-mt",
        "1",
        ...(plan.bitrate ? ["-b:v", plan.bitrate] : ["-crf", String(plan.crf ?? tier.vp9.crf), "-b:v", "0"]),
        "-pix_fmt",
        "yuv420p",
      ];
      break;
    default:
      v = ["-c:v", "prores_ks", "-profile:v", String(tier.prores.profile), "-pix_fmt", "yuv422p10le"];
  }
  // Closed GOP every 2 s keeps seeking in players cheap.
  if (encoder !== "prores_ks") v.push("-g", String(Math.max(1, Math.round(plan.fps * 2))));
  const a = plan.ext === "webm" ? ["-c:a", "libopus", "-b:a", "160k"] : plan.ext === "mov" ? ["-c:a", "pcm_s16le"] : ["-c:a", "aac", "-b:a", "192k"];
  const container = plan.ext === "mp4" ? ["-movflags", "+faststart"] : [];
  return [...v, ...a, ...container];
}

export const contentTypeFor = (ext: OutputPlan["ext"]): string => (ext === "mp4" ? "video/mp4" : ext === "webm" ? "video/webm" : "video/quicktime");
