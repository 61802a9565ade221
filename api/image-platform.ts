/**
 * `platform` on /generate/image and /generate/batch: a platform preset (core/data/platforms.yaml,
 * the same table the prompt enhancer and video assembly use) picks the image's width and height.
 *
 * - Explicit `width`/`height` win over the platform, as `output_settings.resolution` does in
 *   video assembly; with one of them given, the other follows the platform's aspect ratio.
 * - Sizes are rounded to the API's grid (multiples of 8): "Cinematic (2.39:1)" 1920x804 asks
 *   for 1920x808.
 * - When the platform decided the whole size, the job params carry `platform`: a model whose range
 *   is smaller (SDXL-Turbo tops out at 1024, "4K YouTube" is 3840x2160) scales it down with
 *   the aspect ratio kept instead of refusing a size the caller never typed (the ComfyUI
 *   plugin does; metadata.resolution reports the size generated).
 * - An unknown platform is a 400 naming the field and listing the names.
 */
import { FarmError } from "../core/errors.ts";
import { findPlatform, platformSizes } from "../core/platforms.ts";

const GRID = 8;
const MIN = 64;
const MAX = 4096;

const toGrid = (v: number) => Math.min(MAX, Math.max(MIN, Math.round(v / GRID) * GRID));

/** Returns `settings` with width/height from its platform (when one is named); `field` names `platform` in errors. */
export function applyPlatform(settings: Record<string, unknown>, field = "platform"): Record<string, unknown> {
  const name = settings.platform;
  if (name === undefined) return settings;
  const preset = typeof name === "string" ? findPlatform(name) : undefined;
  if (!preset) {
    const names = platformSizes().map((p) => p.name);
    throw new FarmError("VALIDATION_ERROR", `${field}: unknown platform '${String(name)}'; one of: ${names.join(", ")}`, {
      field,
      constraint: "enum",
      allowed: names,
    });
  }
  const { platform: _given, ...rest } = settings;
  const w = typeof settings.width === "number" ? settings.width : undefined;
  const h = typeof settings.height === "number" ? settings.height : undefined;
  // Both explicit: the platform has no say (and is not passed on).
  if (w !== undefined && h !== undefined) return rest;
  const width = w ?? (h !== undefined ? toGrid((h * preset.width) / preset.height) : toGrid(preset.width));
  const height = h ?? (w !== undefined ? toGrid((w * preset.height) / preset.width) : toGrid(preset.height));
  // Only a size wholly the platform's may be scaled by the plugin; a typed side stays as typed.
  return w === undefined && h === undefined ? { ...rest, width, height, platform: preset.name } : { ...rest, width, height };
}
