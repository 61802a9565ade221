/**
 * The plugin's tables (quality tiers, transition names) live as YAML in ../data so
 * operators can read and extend them without touching code; platform presets are the
 * farm's shared core/data/platforms.yaml. Loaded once, frozen.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";
import { findPlatform as findSharedPlatform, PLATFORMS_FILE } from "../../../core/platforms.ts";

const dataDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "data");
const load = (name: string): unknown => YAML.parse(fs.readFileSync(path.join(dataDir, name), "utf8"));

export interface PlatformPreset {
  name: string;
  width: number;
  height: number;
  fps: number;
}

export type QualityTier = "draft" | "standard" | "high" | "maximum";
export const QUALITY_TIERS: readonly QualityTier[] = ["draft", "standard", "high", "maximum"];

export interface TierSettings {
  x264: { preset: string; crf: number };
  x265: { preset: string; crf: number };
  vp9: { deadline: string; cpu_used: number; crf: number };
  prores: { profile: number };
  nvenc: { preset: string; cq: number };
}

interface TransitionsFile {
  aliases: Record<string, string>;
  white_tail: string[];
  xfade: string[];
}

// Shared with the prompt enhancer (core/platforms.ts); video uses each preset's size and rate.
export const PLATFORMS: readonly PlatformPreset[] = Object.freeze(
  (YAML.parse(fs.readFileSync(PLATFORMS_FILE, "utf8")) as { platforms: PlatformPreset[] }).platforms.map(({ name, width, height, fps }) => ({
    name,
    width,
    height,
    fps,
  })),
);
export const TIERS: Readonly<Record<QualityTier, TierSettings>> = Object.freeze(load("quality-tiers.yaml") as Record<QualityTier, TierSettings>);
const transitions = load("transitions.yaml") as TransitionsFile;

/** Every name a request may use: "cut", the aliases, and every ffmpeg 5.1 xfade name. */
export const TRANSITION_NAMES: readonly string[] = Object.freeze(["cut", ...Object.keys(transitions.aliases), ...transitions.xfade]);

/** The xfade transition for a request name; null for "cut"; undefined for an unknown name. */
export function xfadeFor(name: string): string | null | undefined {
  if (name === "cut") return null;
  const alias = transitions.aliases[name];
  if (alias !== undefined) return alias;
  return transitions.xfade.includes(name) ? name : undefined;
}

/** Colour a first clip fades in from / a last clip fades out to for this transition. */
export const tailColour = (name: string): "black" | "white" => (transitions.white_tail.includes(name) ? "white" : "black");

/** The platform named `name`, by the same forgiving rule as the enhancer and /generate/image (core/platforms.ts). */
export function findPlatform(name: string): PlatformPreset | undefined {
  const found = findSharedPlatform(name);
  return found && PLATFORMS.find((p) => p.name === found.name);
}
