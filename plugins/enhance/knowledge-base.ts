/**
 * Loads the enhancement knowledge base once (data/*.yaml, and the style presets and
 * platforms shared through core/data), checks every field (a broken data file fails
 * loudly at start, naming the file and the entry), and offers the lookups.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";
import { FarmError } from "../../core/errors.ts";
import { PLATFORMS_FILE, platformIndex } from "../../core/platforms.ts";
import { nameIndex } from "../../core/job-types/names.ts";
import { STYLES_FILE } from "../../core/styles.ts";
import type { KnowledgeBase, PlatformSpec, SettingEntry, StoryBeat, StylePreset, SubjectCategory, Theme, Vocabulary } from "./types.ts";

const DATA_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "data");

type Obj = Record<string, unknown>;

class Checker {
  constructor(private readonly where: string) {}
  fail(msg: string): never {
    throw new FarmError("INTERNAL_ERROR", `enhance knowledge base ${this.where}: ${msg}`);
  }
  obj(v: unknown, at: string): Obj {
    if (!v || typeof v !== "object" || Array.isArray(v)) this.fail(`${at} must be a mapping`);
    return v as Obj;
  }
  str(o: Obj, key: string, at: string, allowEmpty = false): string {
    const v = o[key];
    if (typeof v !== "string" || (!allowEmpty && v.trim() === "")) this.fail(`${at}.${key} must be a non-empty string`);
    return v;
  }
  num(o: Obj, key: string, at: string): number {
    const v = o[key];
    if (typeof v !== "number" || !Number.isFinite(v)) this.fail(`${at}.${key} must be a number`);
    return v;
  }
  bool(o: Obj, key: string, at: string): boolean {
    const v = o[key];
    if (typeof v !== "boolean") this.fail(`${at}.${key} must be true or false`);
    return v;
  }
  strs(o: Obj, key: string, at: string, min = 1): string[] {
    const v = o[key];
    if (!Array.isArray(v) || v.length < min || v.some((s) => typeof s !== "string" || s.trim() === "")) {
      this.fail(`${at}.${key} must be a list of at least ${min} non-empty strings`);
    }
    return (v as string[]).map(String);
  }
  list(o: Obj, key: string, at: string): Obj[] {
    const v = o[key];
    if (!Array.isArray(v) || v.length === 0) this.fail(`${at}.${key} must be a non-empty list`);
    return (v as unknown[]).map((e, i) => this.obj(e, `${at}.${key}[${i}]`));
  }
}

function readYaml(file: string): Obj {
  const full = path.isAbsolute(file) ? file : path.join(DATA_DIR, file);
  const doc: unknown = YAML.parse(fs.readFileSync(full, "utf8"));
  return new Checker(file).obj(doc, "document");
}

function parseStyles(): StylePreset[] {
  const c = new Checker("core/data/styles.yaml");
  const styles = c.list(readYaml(STYLES_FILE), "styles", "").map((s, i): StylePreset => {
    const at = `styles[${i}]`;
    const grade = c.obj(s["grade"], `${at}.grade`);
    return {
      name: c.str(s, "name", at),
      description: c.str(s, "description", at),
      keywords: c.strs(s, "keywords", at),
      grade: { saturation: c.num(grade, "saturation", at), contrast: c.num(grade, "contrast", at), temperature: c.num(grade, "temperature", at) },
      palette: c.strs(s, "palette", at, 2),
      lighting: c.str(s, "lighting", at),
      lighting_extras: c.strs(s, "lighting_extras", at),
      lens: c.str(s, "lens", at),
      movement: c.str(s, "movement", at),
      depth: c.str(s, "depth", at),
      angle: c.strs(s, "angle", at),
      mood: c.strs(s, "mood", at),
      times: c.strs(s, "times", at),
      atmosphere: c.strs(s, "atmosphere", at),
      setting: c.strs(s, "setting", at),
      texture: c.str(s, "texture", at),
      composition: c.str(s, "composition", at),
      quality: c.strs(s, "quality", at),
      negative: c.strs(s, "negative", at),
    };
  });
  assertUniqueNames(
    c,
    styles.map((s) => s.name),
    "style",
  );
  return styles;
}

function parsePlatforms(): PlatformSpec[] {
  const c = new Checker("core/data/platforms.yaml");
  const platforms = c.list(readYaml(PLATFORMS_FILE), "platforms", "").map((p, i): PlatformSpec => {
    const at = `platforms[${i}]`;
    const spec: PlatformSpec = {
      name: c.str(p, "name", at),
      width: c.num(p, "width", at),
      height: c.num(p, "height", at),
      aspect_ratio: c.str(p, "aspect_ratio", at),
      fps: c.num(p, "fps", at),
      framing: c.str(p, "framing", at),
      layout: c.str(p, "layout", at),
    };
    if (!Number.isInteger(spec.width) || !Number.isInteger(spec.height) || spec.width <= 0 || spec.height <= 0) {
      c.fail(`${at} width/height must be positive integers`);
    }
    return spec;
  });
  assertUniqueNames(
    c,
    platforms.map((p) => p.name),
    "platform",
  );
  return platforms;
}

function parseSubject(c: Checker, s: Obj, at: string, needMatch: boolean): SubjectCategory {
  return {
    category: c.str(s, "category", at),
    match: needMatch ? c.strs(s, "match", at) : [],
    shots: c.strs(s, "shots", at),
    lock: c.str(s, "lock", at, true),
  };
}

function parseTheme(c: Checker, t: Obj, at: string, needMatch: boolean): Theme {
  return {
    theme: c.str(t, "theme", at),
    match: needMatch ? c.strs(t, "match", at) : [],
    moods: c.strs(t, "moods", at),
    emotions: c.strs(t, "emotions", at),
    metaphor: c.str(t, "metaphor", at),
  };
}

const BEATS = new Set(["setup", "rising", "climax", "falling", "resolution"]);

function parseVocabulary(): Vocabulary {
  const c = new Checker("vocabulary.yaml");
  const doc = readYaml("vocabulary.yaml");
  const action = c.obj(doc["action"], "action");
  const settings = c.list(doc, "settings", "").map((s, i): SettingEntry => {
    const at = `settings[${i}]`;
    const entry: SettingEntry = {
      place: c.str(s, "place", at),
      match: c.strs(s, "match", at),
      interior: c.bool(s, "interior", at),
      details: c.strs(s, "details", at),
      foreground: c.str(s, "foreground", at),
      background: c.str(s, "background", at),
    };
    if (s["with"] !== undefined) entry.with = c.strs(s, "with", at);
    return entry;
  });
  const beats = c.list(doc, "beats", "").map((b, i): StoryBeat => {
    const at = `beats[${i}]`;
    const beat = c.str(b, "beat", at);
    if (!BEATS.has(beat)) c.fail(`${at}.beat must be one of ${[...BEATS].join(", ")}`);
    return {
      beat: beat as StoryBeat["beat"],
      until: c.num(b, "until", at),
      cues: c.strs(b, "cues", at),
      emotion: c.str(b, "emotion", at),
      intensity: c.num(b, "intensity", at),
      phrases: c.strs(b, "phrases", at, 2),
    };
  });
  if (beats.at(-1)?.until !== 1) c.fail("the last beat must have until: 1.0");
  return {
    subjects: c.list(doc, "subjects", "").map((s, i) => parseSubject(c, s, `subjects[${i}]`, true)),
    fallback_subject: parseSubject(c, c.obj(doc["fallback_subject"], "fallback_subject"), "fallback_subject", false),
    action: { match: c.strs(action, "match", "action"), shots: c.strs(action, "shots", "action") },
    themes: c.list(doc, "themes", "").map((t, i) => parseTheme(c, t, `themes[${i}]`, true)),
    fallback_theme: parseTheme(c, c.obj(doc["fallback_theme"], "fallback_theme"), "fallback_theme", false),
    settings,
    times_of_day: c.strs(doc, "times_of_day", ""),
    beats,
    quality: c.strs(doc, "quality", ""),
    environment_lock: c.str(doc, "environment_lock", ""),
  };
}

function assertUniqueNames(c: Checker, names: string[], what: string): void {
  const seen = new Set<string>();
  for (const n of names) {
    const k = n.toLowerCase();
    if (seen.has(k)) c.fail(`duplicate ${what} name '${n}'`);
    seen.add(k);
  }
}

let cached: KnowledgeBase | undefined;

/** The knowledge base, read and validated on first use, then shared (it is never mutated). */
export function knowledgeBase(): KnowledgeBase {
  if (!cached) {
    const c = new Checker("negatives.yaml");
    cached = {
      styles: parseStyles(),
      platforms: parsePlatforms(),
      vocabulary: parseVocabulary(),
      baseNegatives: c.strs(readYaml("negatives.yaml"), "base", ""),
    };
  }
  return cached;
}

/** Output platforms with their size and frame rate. */
export function listPlatforms(): { name: string; width: number; height: number; aspect_ratio: string; fps: number }[] {
  return knowledgeBase().platforms.map((p) => ({ name: p.name, width: p.width, height: p.height, aspect_ratio: p.aspect_ratio, fps: p.fps }));
}

/**
 * Name indexes for the lookups, which run on every enhancement: style name -> style by
 * core/job-types/names.ts's nameIndex (as core/styles.ts), platform name -> platform by
 * core/platforms.ts's platformIndex (full name or without the aspect suffix, as video
 * assembly and /generate/image). Built once per knowledge base. The first entry wins on a
 * clash, as a linear search would.
 */
interface NameIndex {
  styles: (name: string) => StylePreset | undefined;
  platforms: (name: string) => PlatformSpec | undefined;
}

const indexes = new WeakMap<KnowledgeBase, NameIndex>();

function nameIndexes(): NameIndex {
  const kb = knowledgeBase();
  let index = indexes.get(kb);
  if (!index) {
    index = { styles: nameIndex(kb.styles, (s) => [s.name]), platforms: platformIndex(kb.platforms) };
    indexes.set(kb, index);
  }
  return index;
}

/**
 * Style lookup under the rule the job type's schema checks (core/job-types/names.ts: case,
 * spaces, hyphens and underscores ignored); undefined when unknown.
 */
export function findStyle(name: string): StylePreset | undefined {
  return nameIndexes().styles(name);
}

/**
 * Platform lookup under the rule the job type's schema checks (core/job-types/names.ts),
 * by full name or without the aspect suffix ("tiktok" -> "TikTok (9:16)"); undefined when unknown.
 */
export function findPlatform(name: string): PlatformSpec | undefined {
  return nameIndexes().platforms(name);
}
