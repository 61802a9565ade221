/**
 * Reads the user's prompt once against the vocabulary: what kind of subject it is,
 * its theme, the place, whether it already names a time of day, the story beat.
 * Every stage works from this, so a stage run by the LLM still leaves the facts
 * (moods, style DNA) that later stages need.
 */
import type { EnhanceInput, KnowledgeBase, PlatformSpec, SettingEntry, StoryBeat, StylePreset, SubjectCategory, Theme } from "./types.ts";
import { pick, singular, stableHash, words } from "./text.ts";

export interface PromptAnalysis {
  input: EnhanceInput;
  style: StylePreset;
  platform: PlatformSpec;
  kb: KnowledgeBase;
  /** Seed for every deterministic choice: a hash of the normalised prompt. */
  seed: number;
  /** The prompt's words in singular form. */
  tokens: Set<string>;
  /** " word word ... " for multi-word cue matching. */
  padded: string;
  subject: SubjectCategory;
  isAction: boolean;
  theme: Theme;
  /** 3 mood adjectives: the theme's, then the style's. */
  moods: string[];
  setting: SettingEntry | undefined;
  /** The prompt already names a time of day. */
  namesTime: boolean;
  beat: StoryBeat;
}

const hasAny = (tokens: Set<string>, list: readonly string[]) => list.some((w) => tokens.has(singular(w.toLowerCase())));

export function analyzePrompt(input: EnhanceInput, style: StylePreset, platform: PlatformSpec, kb: KnowledgeBase): PromptAnalysis {
  const v = kb.vocabulary;
  const ws = words(input.prompt);
  const tokens = new Set(ws.map(singular));
  const padded = ` ${ws.join(" ")} `;
  const seed = stableHash(ws.join(" "));
  const subject = v.subjects.find((s) => hasAny(tokens, s.match)) ?? v.fallback_subject;
  const theme = v.themes.find((t) => hasAny(tokens, t.match)) ?? v.fallback_theme;
  const moods = uniqueLower([...theme.moods, ...style.mood]).slice(0, 3);
  const setting = v.settings.find((s) => hasAny(tokens, s.match) && (!s.with || hasAny(tokens, s.with)));
  return {
    input,
    style,
    platform,
    kb,
    seed,
    tokens,
    padded,
    subject,
    isAction: hasAny(tokens, v.action.match),
    theme,
    moods,
    setting,
    namesTime: hasAny(tokens, v.times_of_day),
    beat: chooseBeat(input, v.beats, padded, seed),
  };
}

/**
 * A music video's scene position picks the beat: scene_index is 0-based, the first scene
 * sits at 0 (setup) and the last at 1 (resolution), and each beat covers positions up to
 * its `until`. A lone scene, or no position, goes by the prompt's own cue words, then by
 * a stable hash of the prompt.
 */
function chooseBeat(input: EnhanceInput, beats: StoryBeat[], padded: string, seed: number): StoryBeat {
  if (input.scene_index !== undefined && input.scene_count !== undefined && input.scene_count > 1) {
    const pos = input.scene_index / (input.scene_count - 1);
    return beats.find((b) => pos <= b.until) ?? (beats.at(-1) as StoryBeat);
  }
  const cued = beats.find((b) => b.cues.some((c) => padded.includes(` ${c.toLowerCase()} `)));
  return cued ?? pick(beats, seed, "beat");
}

function uniqueLower(items: string[]): string[] {
  const seen = new Set<string>();
  return items.filter((i) => {
    const k = i.toLowerCase();
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
