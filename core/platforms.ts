/**
 * Where the output-platform presets live (DOMAIN-REFERENCE.md "Platforms"): one data file
 * shared by the prompt enhancer (framing, layout and aspect written into prompts) and video
 * assembly (frame size and rate of the output), so the two can never disagree.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";
import { nameKey } from "./job-types/names.ts";

export const PLATFORMS_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), "data", "platforms.yaml");

/** A platform's output size and rate (the fields every user of the file reads). */
export interface PlatformSize {
  name: string;
  width: number;
  height: number;
  fps: number;
}

let sizes: readonly PlatformSize[] | undefined;

/** Every platform's size, read once from PLATFORMS_FILE. */
export function platformSizes(): readonly PlatformSize[] {
  sizes ??= Object.freeze(
    (YAML.parse(fs.readFileSync(PLATFORMS_FILE, "utf8")) as { platforms: PlatformSize[] }).platforms.map(({ name, width, height, fps }) =>
      Object.freeze({ name, width, height, fps }),
    ),
  );
  return sizes;
}

/**
 * The spellings a platform answers to: its full name and the name without its aspect
 * suffix ("TikTok (9:16)" -> "TikTok"), because people type it that way. The enhance job
 * type's schema and the enhancer's lookup both build on this, under the nameKey rule of
 * core/job-types/names.ts, so a name the schema accepts at submit is always found.
 */
export function platformNameForms(name: string): string[] {
  const bare = name.replace(/\s*\([^)]*\)\s*$/, "");
  return bare && bare !== name ? [name, bare] : [name];
}

/**
 * A lookup by platform name under the forgiving rule (nameKey over platformNameForms), the
 * one every platform lookup uses (findPlatform below, the enhancer's knowledge base). Full
 * names are indexed first, so a bare form never shadows another platform's full name, and on
 * any other clash the first platform listed wins, as a linear search would.
 */
export function platformIndex<T extends { name: string }>(items: readonly T[]): (name: string) => T | undefined {
  const map = new Map<string, T>();
  const add = (key: string, p: T) => {
    if (!map.has(key)) map.set(key, p);
  };
  for (const p of items) add(nameKey(p.name), p);
  for (const p of items) for (const form of platformNameForms(p.name)) add(nameKey(form), p);
  return (name) => map.get(nameKey(name));
}

let lookup: ((name: string) => PlatformSize | undefined) | undefined;

/**
 * The platform named `name` under the forgiving rule every platform field uses (nameKey over
 * platformNameForms: "tiktok", "tik tok" and "TikTok (9:16)" are one platform), or undefined.
 */
export function findPlatform(name: string): PlatformSize | undefined {
  lookup ??= platformIndex(platformSizes());
  return lookup(name);
}
