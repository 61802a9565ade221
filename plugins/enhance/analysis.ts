/**
 * Reads the user's prompt once against the vocabulary: what kind of subject it is,
 * its theme, the place, whether it already names a time of day, the story beat.
 * Every stage works from this, so a stage run by the LLM still leaves the facts
 * (moods, style DNA) that later stages need.
 */
import type { EnhanceInput, KnowledgeBase, PlatformSpec, SettingEntry, StoryBeat, StylePreset, SubjectCategory, Theme, Vocabulary } from "./types.ts";
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

/** A vocabulary word in the form prompt tokens take: lower case, singular. */
const tokenForm = (w: string): string => singular(w.toLowerCase());

/**
 * The vocabulary turned around for lookup by prompt word. Matching a prompt then costs a
 * few map lookups per prompt word instead of a scan of every list. Built once per
 * vocabulary (the knowledge base is never mutated).
 */
interface VocabIndex {
  /** word -> index of the first subject (theme) whose match list has it. */
  subjectOf: Map<string, number>;
  themeOf: Map<string, number>;
  /** word -> indexes of the settings whose match list has it. */
  settingsOf: Map<string, number[]>;
  /** Each setting's `with` words; undefined when it has none. */
  settingWith: (ReadonlySet<string> | undefined)[];
  action: ReadonlySet<string>;
  times: ReadonlySet<string>;
  /** One-word cue (lower case) -> index of the first beat that lists it. */
  beatOfWord: Map<string, number>;
  /** Each beat's multi-word cues as " cue words " (lower case), for matching against the padded prompt. */
  beatPhrases: string[][];
}

const indexes = new WeakMap<Vocabulary, VocabIndex>();

/** A cue that can only match one whole prompt word (the rest go through the substring search). */
const isOneWord = (cue: string): boolean => cue !== "" && !cue.includes(" ");

function vocabIndex(v: Vocabulary): VocabIndex {
  let ix = indexes.get(v);
  if (!ix) {
    ix = {
      subjectOf: firstListing(v.subjects.map((s) => s.match.map(tokenForm))),
      themeOf: firstListing(v.themes.map((t) => t.match.map(tokenForm))),
      settingsOf: allListings(v.settings),
      settingWith: v.settings.map((s) => (s.with ? new Set(s.with.map(tokenForm)) : undefined)),
      action: new Set(v.action.match.map(tokenForm)),
      times: new Set(v.times_of_day.map(tokenForm)),
      beatOfWord: firstListing(v.beats.map((b) => b.cues.map((c) => c.toLowerCase()).filter(isOneWord))),
      beatPhrases: v.beats.map((b) =>
        b.cues
          .map((c) => c.toLowerCase())
          .filter((c) => !isOneWord(c))
          .map((c) => ` ${c} `),
      ),
    };
    indexes.set(v, ix);
  }
  return ix;
}

/** word -> index of the first list whose words include it. */
function firstListing(lists: readonly (readonly string[])[]): Map<string, number> {
  const of = new Map<string, number>();
  lists.forEach((list, i) => {
    for (const w of list) if (!of.has(w)) of.set(w, i);
  });
  return of;
}

/** word -> indexes (ascending, no repeats) of every list entry whose match list has the word. */
function allListings(lists: readonly { match: readonly string[] }[]): Map<string, number[]> {
  const of = new Map<string, number[]>();
  lists.forEach((l, i) => {
    for (const w of new Set(l.match.map(tokenForm))) {
      const at = of.get(w);
      if (at) at.push(i);
      else of.set(w, [i]);
    }
  });
  return of;
}

/** Whether the two sets share a word; walks the smaller one (prompts are usually a few words). */
function intersects(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size > b.size) return intersects(b, a);
  for (const w of a) if (b.has(w)) return true;
  return false;
}

/** The lowest list index any prompt word maps to (= the first list that matches), or -1. */
function firstMatch(tokens: Iterable<string>, of: Map<string, number>): number {
  let best = -1;
  for (const t of tokens) {
    const i = of.get(t);
    if (i !== undefined && (best < 0 || i < best)) best = i;
  }
  return best;
}

/** The first setting whose match list has a prompt word and whose `with` list (if any) has one too. */
function findSetting(tokens: ReadonlySet<string>, settings: readonly SettingEntry[], ix: VocabIndex): SettingEntry | undefined {
  let best = -1;
  for (const t of tokens) {
    const listed = ix.settingsOf.get(t);
    if (!listed) continue;
    for (const i of listed) {
      if (best >= 0 && i >= best) continue;
      const withWords = ix.settingWith[i];
      if (!withWords || intersects(tokens, withWords)) best = i;
    }
  }
  return best < 0 ? undefined : settings[best];
}

export function analyzePrompt(input: EnhanceInput, style: StylePreset, platform: PlatformSpec, kb: KnowledgeBase): PromptAnalysis {
  const v = kb.vocabulary;
  const ix = vocabIndex(v);
  const ws = words(input.prompt);
  const tokens = new Set<string>();
  for (const w of ws) tokens.add(singular(w));
  const joined = ws.join(" ");
  const padded = ` ${joined} `;
  const seed = stableHash(joined);
  const subjectAt = firstMatch(tokens, ix.subjectOf);
  const themeAt = firstMatch(tokens, ix.themeOf);
  const theme = themeAt < 0 ? v.fallback_theme : v.themes[themeAt]!;
  const moods = uniqueLower([...theme.moods, ...style.mood]).slice(0, 3);
  return {
    input,
    style,
    platform,
    kb,
    seed,
    tokens,
    padded,
    subject: subjectAt < 0 ? v.fallback_subject : v.subjects[subjectAt]!,
    isAction: intersects(tokens, ix.action),
    theme,
    moods,
    setting: findSetting(tokens, v.settings, ix),
    namesTime: intersects(tokens, ix.times),
    beat: chooseBeat(input, v.beats, cuedBeat(ws, padded, ix), seed),
  };
}

/**
 * A music video's scene position picks the beat: scene_index is 0-based, the first scene
 * sits at 0 (setup) and the last at 1 (resolution), and each beat covers positions up to
 * its `until`. A lone scene, or no position, goes by the prompt's own cue words, then by
 * a stable hash of the prompt.
 */
function chooseBeat(input: EnhanceInput, beats: StoryBeat[], cued: number, seed: number): StoryBeat {
  if (input.scene_index !== undefined && input.scene_count !== undefined && input.scene_count > 1) {
    const pos = input.scene_index / (input.scene_count - 1);
    return beats.find((b) => pos <= b.until) ?? (beats.at(-1) as StoryBeat);
  }
  return cued >= 0 ? beats[cued]! : pick(beats, seed, "beat");
}

/**
 * The first beat with a cue in the prompt, or -1: a cue matches when ` cue ` occurs in the
 * padded prompt. The padded prompt is its words joined by single spaces, so a one-word cue
 * occurs exactly when it is one of the words (a map lookup per word); only multi-word cues
 * ("walking away") need the substring search, and only for beats before the best word match.
 */
function cuedBeat(ws: readonly string[], padded: string, ix: VocabIndex): number {
  const byWord = firstMatch(ws, ix.beatOfWord);
  const before = byWord < 0 ? ix.beatPhrases.length : byWord;
  for (let i = 0; i < before; i++) if (ix.beatPhrases[i]!.some((c) => padded.includes(c))) return i;
  return byWord;
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
