/**
 * The prompt being built. Stages add phrases to sections; the draft refuses any phrase
 * that would repeat what is already there (same meaningful words, or a shared word pair),
 * so the final prompt never says the same thing twice. Sections print in the order a
 * prompt writer uses: subject, setting, lighting, camera, mood, quality.
 */
import { normalisedPhraseFacts, oneOffPhraseFacts, type PhraseFacts } from "./phrase.ts";

export const SECTIONS = ["subject", "setting", "lighting", "camera", "mood", "quality"] as const;
export type Section = (typeof SECTIONS)[number];

export class PromptDraft {
  private readonly parts = new Map<Section, string[]>(SECTIONS.map((s) => [s, []]));
  private readonly usedWords = new Set<string>();
  private readonly usedPairs = new Set<string>();

  /** The subject goes in as written: it is the user's own words and is never deduped away. */
  setSubject(subject: string): void {
    this.parts.set("subject", [subject]);
    this.remember(oneOffPhraseFacts(subject));
  }

  /**
   * Adds a phrase unless it repeats the draft. Returns whether it was added.
   * Rejected: empty, the same phrase, all its meaningful words already present,
   * or any adjacent meaningful-word pair already present.
   *
   * "The same phrase" (equal ignoring case) needs no check of its own: content words depend
   * only on the lower-cased text, so a repeat has exactly the words of the phrase it repeats,
   * all of them already present. Likewise an empty phrase has no meaningful words.
   */
  add(section: Section, phrase: string): boolean {
    const p = this.trimRepeatedLead(normalisedPhraseFacts(phrase));
    if (p.words.length === 0) return false;
    if (this.allUsed(p.words, this.usedWords) || this.anyUsed(p.pairs, this.usedPairs)) return false;
    this.parts.get(section)!.push(p.text);
    this.remember(p);
    return true;
  }

  /**
   * Drops a leading modifier the prompt already used ("warm contrasty color grade" after
   * "warm tones" becomes "contrasty color grade"). Only when three meaningful words remain,
   * never in a list ("sky blue, sakura pink ..."), and never "shot" (as in "shot on 35mm lens").
   */
  private trimRepeatedLead(p: PhraseFacts): PhraseFacts {
    if (p.hasComma) return p;
    while (p.lead !== undefined && p.lead !== "shot" && this.usedWords.has(p.lead) && p.rest.words.length >= 3) p = p.rest;
    return p;
  }

  // Plain loops: every() / some() with a closure cost more than the lookups themselves here.
  private allUsed(items: readonly string[], used: Set<string>): boolean {
    for (let i = 0; i < items.length; i++) if (!used.has(items[i]!)) return false;
    return true;
  }

  private anyUsed(items: readonly string[], used: Set<string>): boolean {
    for (let i = 0; i < items.length; i++) if (used.has(items[i]!)) return true;
    return false;
  }

  private remember(p: PhraseFacts): void {
    for (const w of p.words) this.usedWords.add(w);
    for (const b of p.pairs) this.usedPairs.add(b);
  }

  /** The phrases of one section, in insertion order. */
  section(section: Section): readonly string[] {
    return this.parts.get(section)!;
  }

  /** The prompt as it stands: sections in order, phrases joined with ", ". */
  compose(): string {
    // Concatenated in place of flatMap + join: no intermediate arrays.
    let out = "";
    let first = true;
    for (const s of SECTIONS) {
      for (const phrase of this.parts.get(s)!) {
        out = first ? phrase : `${out}, ${phrase}`;
        first = false;
      }
    }
    return out;
  }
}
