/**
 * The seven stages of the rules engine. Each turns the prompt analysis into phrases for
 * sections of the draft; the draft drops repeats. "Pinned" phrases are facts the result
 * must carry whichever engine runs the stage (the style's keywords, the platform's frame
 * and resolution, the style-DNA anchors); the LLM engine replaces only the others.
 */
import type { PromptAnalysis } from "./analysis.ts";
import type { Section } from "./draft.ts";
import type { StageName, StylePreset } from "./types.ts";
import { joinAnd, pick } from "./text.ts";

export interface StagePhrase {
  section: Section;
  text: string;
  pinned?: boolean;
}

/** What each stage contributes (also the brief the LLM engine is given). */
export const STAGE_BRIEF: Record<StageName, string> = {
  concept: "core theme, mood (3-5 adjectives), emotional keywords, visual metaphor",
  scene: "setting, environmental details, atmosphere, foreground/midground/background, time of day, props",
  visual: "colour palette, lighting design, texture, composition",
  cinematic: "shot type, camera angle and movement, lens (e.g. 35mm anamorphic), depth of field",
  narrative: "story beat (setup, rising, climax, falling, resolution), emotion and intensity, implied before/after",
  technical: "quality keywords for the target platform",
  consistency: "anchor keywords, character and environment locks that keep a series of shots consistent",
};

/** The draft section an engine's free text for a stage lands in. */
export const STAGE_SECTION: Record<StageName, Section> = {
  concept: "mood",
  scene: "setting",
  visual: "lighting",
  cinematic: "camera",
  narrative: "mood",
  technical: "quality",
  consistency: "quality",
};

/** "warm contrasty color grade", "monochrome high-contrast color grade", ... */
export function gradePhrase(style: StylePreset): string {
  const { saturation, contrast, temperature } = style.grade;
  const adj: string[] = [];
  if (saturation <= 0.05) adj.push("monochrome");
  else {
    if (temperature > 5) adj.push("warm");
    else if (temperature < -5) adj.push("cool");
    if (saturation < 0.85) adj.push("desaturated");
    else if (saturation > 1.15) adj.push("vivid");
  }
  if (contrast >= 1.25) adj.push("high-contrast");
  else if (contrast >= 1.1) adj.push("contrasty");
  else if (contrast <= 0.95) adj.push("low-contrast");
  if (adj.length === 0) adj.push("natural");
  return `${adj.join(" ")} color grade`;
}

export const palettePhrase = (style: StylePreset): string => `${joinAnd(style.palette)} color palette`;

/** A lens reads "shot on a 35mm anamorphic lens"; a viewpoint ("painter's viewpoint") reads as is. */
export const lensPhrase = (style: StylePreset): string => (/\blens\b/i.test(style.lens) ? `shot on ${style.lens}` : style.lens);

/**
 * A style's palette, grade and lens phrases, made once per style (presets never change):
 * two stages use each of them on every call.
 */
interface StylePhrases {
  palette: string;
  grade: string;
  lens: string;
}

const stylePhraseCache = new WeakMap<StylePreset, StylePhrases>();

function stylePhrases(style: StylePreset): StylePhrases {
  let phrases = stylePhraseCache.get(style);
  if (!phrases) {
    phrases = { palette: palettePhrase(style), grade: gradePhrase(style), lens: lensPhrase(style) };
    stylePhraseCache.set(style, phrases);
  }
  return phrases;
}

function concept(a: PromptAnalysis): StagePhrase[] {
  return [
    ...a.style.keywords.map((k): StagePhrase => ({ section: "quality", text: k, pinned: true })),
    { section: "mood", text: `${joinAnd(a.moods)} mood` },
    { section: "mood", text: `evoking ${joinAnd(a.theme.emotions)}` },
    { section: "mood", text: a.theme.metaphor },
  ];
}

function scene(a: PromptAnalysis): StagePhrase[] {
  const out: StagePhrase[] = [];
  if (a.setting) {
    for (const d of a.setting.details) out.push({ section: "setting", text: d });
    out.push({ section: "setting", text: `${a.setting.foreground} in the foreground` });
    out.push({ section: "setting", text: `${a.setting.background} in the background` });
  } else {
    for (const d of a.style.setting) out.push({ section: "setting", text: d });
  }
  // Interiors take their time of day from the lighting; a prompt that names one keeps its own.
  if (!a.namesTime && !a.setting?.interior) out.push({ section: "setting", text: pick(a.style.times, a.seed, "time") });
  out.push({ section: "setting", text: pick(a.style.atmosphere, a.seed, "atmosphere") });
  return out;
}

function visual(a: PromptAnalysis): StagePhrase[] {
  return [
    { section: "lighting", text: a.style.lighting },
    { section: "lighting", text: pick(a.style.lighting_extras, a.seed, "light-extra") },
    { section: "lighting", text: stylePhrases(a.style).palette },
    { section: "lighting", text: stylePhrases(a.style).grade },
    { section: "camera", text: a.style.composition },
    { section: "quality", text: a.style.texture },
  ];
}

function cinematic(a: PromptAnalysis): StagePhrase[] {
  const shot = a.isAction ? pick(a.kb.vocabulary.action.shots, a.seed, "action-shot") : pick(a.subject.shots, a.seed, "shot");
  const angle = pick(a.style.angle, a.seed, "angle");
  return [
    { section: "camera", text: shot },
    { section: "camera", text: /\b(angle|view)\b/.test(angle) ? angle : `${angle} shot` },
    { section: "camera", text: stylePhrases(a.style).lens },
    { section: "camera", text: a.style.depth },
    { section: "camera", text: a.style.movement },
  ];
}

function narrative(a: PromptAnalysis): StagePhrase[] {
  const b = a.beat;
  const intensity = b.intensity >= 0.8 ? "high emotional intensity" : b.intensity <= 0.3 ? "understated emotion" : "";
  return [
    ...b.phrases.map((p): StagePhrase => ({ section: "mood", text: p })),
    { section: "mood", text: b.emotion },
    ...(intensity ? [{ section: "mood", text: intensity } as StagePhrase] : []),
  ];
}

function technical(a: PromptAnalysis): StagePhrase[] {
  const p = a.platform;
  return [
    { section: "quality", text: p.framing, pinned: true },
    { section: "quality", text: `${p.width}x${p.height}`, pinned: true },
    { section: "camera", text: p.layout },
    ...[...a.style.quality, ...a.kb.vocabulary.quality].map((q): StagePhrase => ({ section: "quality", text: q })),
  ];
}

function consistency(a: PromptAnalysis): StagePhrase[] {
  // Anchors re-assert the style DNA; the draft drops them when earlier stages already said it
  // (they matter when an LLM wrote those stages in its own words).
  return [
    { section: "lighting", text: stylePhrases(a.style).palette, pinned: true },
    { section: "lighting", text: a.style.lighting, pinned: true },
    { section: "camera", text: stylePhrases(a.style).lens, pinned: true },
    ...(a.subject.lock ? [{ section: "quality", text: a.subject.lock } as StagePhrase] : []),
    { section: "quality", text: a.kb.vocabulary.environment_lock },
  ];
}

export const RULES_STAGES: Record<StageName, (a: PromptAnalysis) => StagePhrase[]> = {
  concept,
  scene,
  visual,
  cinematic,
  narrative,
  technical,
  consistency,
};
